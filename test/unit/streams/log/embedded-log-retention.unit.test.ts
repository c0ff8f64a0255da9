import { firstValueFrom, filter as rxFilter, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../../../streams/log/embedded-log.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';

const msg = (i: number) => ({
  key: `k${i}`,
  value: Buffer.from(JSON.stringify({ user_id: `u${i % 3}`, i })),
});

/** Reads `n` records through a consumer of `group` and commits past them. */
async function consume(log: EmbeddedLog, group: string, n: number): Promise<LogRecord[]> {
  const c = log.consumer({ groupId: group, topics: ['t'] });
  const got: LogRecord[] = [];
  await new Promise<void>((resolve) => {
    const sub = c.deliveries$.subscribe((d) => {
      if (d.event.kind === 'batch') got.push(...d.event.records);
      d.ack();
      if (got.length >= n) {
        const last = got[n - 1]!;
        void c.commit([{ topic: 't', partition: 0, offset: last.offset + 1, metadata: null }]).then(() => {
          sub.unsubscribe();
          resolve();
        });
      }
    });
  });
  return got;
}

describe('embedded log retention', () => {
  it('drops only what every group committed past and is older than the retention', async () => {
    let now = 0;
    const log = new EmbeddedLog({ clock: () => now, retentionMs: 1000, sweepIntervalMs: 0 });
    await log.ensureTopics([{ topic: 't', partitions: 1 }]);
    log.appendSync('t', [msg(0), msg(1), msg(2), msg(3)]);
    // A topic no group reads keeps everything, however old.
    now = 10_000;
    expect(log.sweep()).toBe(0);
    await consume(log, 'fast', 4);
    await consume(log, 'slow', 2);
    // Committed past by "fast" (4) and "slow" (2): only offsets 0 and 1 may go.
    expect(log.sweep()).toBe(2);
    expect(log.read('t').map((r) => r.offset)).toEqual([2, 3]);
    // Young records are kept even when committed past.
    log.appendSync('t', [msg(4)]);
    await consume(log, 'slow', 3);
    await consume(log, 'fast', 1);
    now = 10_500;
    expect(log.sweep()).toBe(2); // offsets 2 and 3 (appended at 0), not 4 (appended at 10 000)
    expect(log.read('t').map((r) => r.offset)).toEqual([4]);
    // A group that starts now finds the retained records, from the log's new start.
    const fresh = await consume(log, 'late', 1);
    expect(fresh.map((r) => r.offset)).toEqual([4]);
  });

  it('keeps memory bounded: records held stay under a ceiling however many pass through', async () => {
    let now = 0;
    const log = new EmbeddedLog({ clock: () => now, retentionMs: 100, sweepIntervalMs: 10 });
    await log.ensureTopics([{ topic: 't', partitions: 1 }]);
    const c = log.consumer({ groupId: 'g', topics: ['t'] });
    let seen = 0;
    let maxHeld = 0;
    const sub = c.deliveries$.subscribe((d) => {
      if (d.event.kind === 'batch') {
        seen += d.event.records.length;
        const last = d.event.records[d.event.records.length - 1]!;
        void c.commit([{ topic: 't', partition: 0, offset: last.offset + 1, metadata: null }]);
      }
      d.ack();
    });
    for (let i = 0; i < 5000; i++) {
      now += 1;
      log.appendSync('t', [msg(i)]);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      maxHeld = Math.max(maxHeld, log.retainedCount());
    }
    while (seen < 5000) await new Promise((r) => setImmediate(r));
    now += 1000;
    log.appendSync('t', [msg(5000)]);
    sub.unsubscribe();
    // 5,001 records went through; the log never held more than the retention window plus what
    // was not yet committed (a consumer turn of ~50 appends), and holds a handful at the end.
    expect(maxHeld).toBeLessThan(300);
    expect(log.retainedCount()).toBeLessThanOrEqual(1);
    expect(log.endOffsets('t')).toEqual([5001]);
  });

  it('erases records in place: offsets, commits and lag stay right, consumers skip the gap', async () => {
    const log = new EmbeddedLog();
    await log.ensureTopics([{ topic: 't', partitions: 1 }]);
    log.appendSync(
      't',
      Array.from({ length: 6 }, (_, i) => msg(i)),
    );
    const isU1 = (r: LogRecord) => (JSON.parse(r.value.toString()) as { user_id: string }).user_id === 'u1';
    expect(log.eraseWhere(isU1)).toBe(2); // offsets 1 and 4
    expect(log.read('t').map((r) => r.offset)).toEqual([0, 2, 3, 5]);
    expect(log.endOffsets('t')).toEqual([6]);
    const c = log.consumer({ groupId: 'g', topics: ['t'] });
    const records = await firstValueFrom(
      c.deliveries$.pipe(
        rxFilter((d) => {
          d.ack();
          return d.event.kind === 'batch';
        }),
        take(1),
        toArray(),
      ),
    );
    const ev = records[0]!.event;
    expect(ev.kind === 'batch' && ev.records.map((r) => r.offset)).toEqual([0, 2, 3, 5]);
    expect(log.lag('g', ['t'])).toBe(4);
    // An erased record at the end is no lag: no consumer can commit past what it never gets.
    log.eraseWhere((r) => r.offset === 5);
    await c.commit([{ topic: 't', partition: 0, offset: 4, metadata: null }]);
    expect(log.lag('g', ['t'])).toBe(0);
    expect(await log.topicEnds(['t'])).toEqual([{ topic: 't', partition: 0, offset: 4, metadata: null }]);
  });
});
