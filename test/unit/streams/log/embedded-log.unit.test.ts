import { createRequire } from 'node:module';
import { firstValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../../../streams/log/embedded-log.ts';
import type { Delivery, SourceEvent } from '../../../../streams/log/event-log.ts';
import { partitionForKey } from '../../../../streams/log/murmur2.ts';

const require = createRequire(import.meta.url);
const kafkajsPartitioner = require('kafkajs/src/producer/partitioners/default/index.js') as () => (a: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  message: { key: string };
}) => number;

const msg = (key: string, v: string) => ({ key, value: Buffer.from(v) });

/** Collects deliveries, acknowledging each, until `n` of them arrived. */
async function collect(
  d$: ReturnType<EmbeddedLog['consumer']>['deliveries$'],
  n: number,
): Promise<SourceEvent[]> {
  // Acknowledge as each arrives: the consumer delivers nothing more until then.
  const got = await firstValueFrom(
    d$.pipe(
      tap((d: Delivery) => d.ack()),
      take(n),
      toArray(),
    ),
  );
  return got.map((d) => d.event);
}

describe('EmbeddedLog', () => {
  it('partitions keys exactly as kafkajs (and Kafka) do', () => {
    const partitioner = kafkajsPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId }));
    for (let i = 0; i < 500; i++) {
      const key = `sess-${i}-${'한글'.repeat(i % 3)}`;
      expect(partitionForKey(key, 6)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key } }));
    }
  });

  it('assigns offsets per partition and keeps a key on one partition', async () => {
    const log = new EmbeddedLog();
    await log.ensureTopics([{ topic: 't', partitions: 4 }]);
    const placed = log.appendSync('t', [msg('k1', 'a'), msg('k2', 'b'), msg('k1', 'c')]);
    expect(placed.map((p) => p.partition)).toEqual(['k1', 'k2', 'k1'].map((k) => partitionForKey(k, 4)));
    expect(placed[0]!.partition).toBe(placed[2]!.partition);
    expect(placed[2]!.offset).toBeGreaterThan(placed[0]!.offset);
    expect(log.endOffsets('t').reduce((a, b) => a + b, 0)).toBe(3);
    await expect(log.ensureTopics([{ topic: 't', partitions: 3 }])).rejects.toThrow(/4 partitions/);
    await expect(log.send('nope', [])).rejects.toThrow(/unknown topic/);
  });

  it('delivers assignment, batches and idle; resumes a group from its committed offset', async () => {
    const log = new EmbeddedLog({ idleIntervalMs: 5 });
    await log.ensureTopics([{ topic: 't', partitions: 1 }]);
    log.appendSync('t', [msg('k', '0'), msg('k', '1'), msg('k', '2')]);
    const c1 = log.consumer({ groupId: 'g', topics: ['t'], maxBatchSize: 2 });
    const first = await collect(c1.deliveries$, 4);
    expect(first.map((e) => e.kind)).toEqual(['assigned', 'batch', 'batch', 'idle']);
    const b1 = first[1] as Extract<SourceEvent, { kind: 'batch' }>;
    expect(b1.records.map((r) => r.offset)).toEqual([0, 1]);
    await c1.commit([{ topic: 't', partition: 0, offset: 2, metadata: 'state' }]);

    const c2 = log.consumer({ groupId: 'g', topics: ['t'] });
    const again = await collect(c2.deliveries$, 2);
    const assigned = again[0] as Extract<SourceEvent, { kind: 'assigned' }>;
    expect(assigned.partitions[0]!.committed).toEqual({
      topic: 't',
      partition: 0,
      offset: 2,
      metadata: 'state',
    });
    expect((again[1] as Extract<SourceEvent, { kind: 'batch' }>).records.map((r) => r.offset)).toEqual([2]);
    expect(log.lag('g', ['t'])).toBe(1);
  });

  it('splits co-partitioned topics between group members by partition number and rebalances', async () => {
    const log = new EmbeddedLog({ idleIntervalMs: 5 });
    await log.ensureTopics([
      { topic: 'a', partitions: 4 },
      { topic: 'b', partitions: 4 },
    ]);
    const c1 = log.consumer({ groupId: 'g', topics: ['a', 'b'] });
    const c2 = log.consumer({ groupId: 'g', topics: ['a', 'b'] });
    const seen1: SourceEvent[] = [];
    const seen2: SourceEvent[] = [];
    const s1 = c1.deliveries$.subscribe((d) => {
      seen1.push(d.event);
      d.ack();
    });
    const s2 = c2.deliveries$.subscribe((d) => {
      seen2.push(d.event);
      d.ack();
    });
    await new Promise((r) => setTimeout(r, 30));
    const owned = (seen: SourceEvent[]) => {
      const set = new Set<string>();
      for (const e of seen) {
        if (e.kind === 'assigned') for (const p of e.partitions) set.add(`${p.topic}${p.partition}`);
        if (e.kind === 'revoked') for (const p of e.partitions) set.delete(`${p.topic}${p.partition}`);
      }
      return [...set].sort();
    };
    expect(owned(seen1)).toEqual(['a0', 'a1', 'b0', 'b1']);
    expect(owned(seen2)).toEqual(['a2', 'a3', 'b2', 'b3']);
    s1.unsubscribe();
    await new Promise((r) => setTimeout(r, 30));
    expect(owned(seen2)).toEqual(['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3']);
    s2.unsubscribe();
  });
});
