import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../../common/metrics.ts';
import { EmbeddedLog } from '../../../../streams/log/embedded-log.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { DEFAULT_RETRY } from '../../../../streams/runtime/retry.ts';
import { type RunningSink, runSink } from '../../../../streams/runtime/sink-runtime.ts';
import { type Sink, SinkError } from '../../../../streams/sinks/sink.ts';

const TOPIC = 'h';
const DLQ = 'dead';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST_RETRY = { ...DEFAULT_RETRY, baseMs: 20, maxMs: 200 };

async function newLog() {
  const log = new EmbeddedLog({ idleIntervalMs: 5 });
  await log.ensureTopics([
    { topic: TOPIC, partitions: 3 },
    { topic: DLQ, partitions: 1 },
  ]);
  return log;
}

const append = (log: EmbeddedLog, from: number, n: number) => {
  for (let i = from; i < from + n; i++)
    log.appendSync(TOPIC, [{ key: `k${i % 7}`, value: Buffer.from(JSON.stringify({ id: `r${i}` })) }]);
};

/**
 * An idempotent store (upsert by record id) that can be taken away, and that counts how often each
 * id was written, so a test can tell "applied twice" from "stored twice".
 */
function flakyStore() {
  const docs = new Map<string, 1>();
  const writes = new Map<string, number>();
  let down = false;
  const store = {
    docs,
    writes,
    setDown: (d: boolean) => {
      down = d;
    },
    async upsert(records: readonly LogRecord[]) {
      if (down) throw new SinkError('store_unreachable', 'connection refused', { retriable: true });
      for (const r of records) {
        const id = (JSON.parse(r.value.toString()) as { id: string }).id;
        docs.set(id, 1);
        writes.set(id, (writes.get(id) ?? 0) + 1);
      }
    },
  };
  return store;
}

const sinkOver = (
  name: string,
  store: { upsert(r: readonly LogRecord[]): Promise<void> },
  extra: Partial<Sink> = {},
): Sink => ({
  name,
  group: `g-${name}`,
  topics: [TOPIC],
  apply: async (records) => {
    await store.upsert(records);
    return { counts: { upserts: records.length } };
  },
  ...extra,
});

async function until(cond: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const ids = (n: number) => new Set(Array.from({ length: n }, (_, i) => `r${i}`));

describe('sink runtime', () => {
  it('one store unreachable for 10 s: the other sink stays current, the stalled one catches up, nothing lost or doubled', async () => {
    const log = await newLog();
    const metrics = new MetricsRegistry();
    const up = flakyStore();
    const down = flakyStore();
    const deps = { log, deadLetterTopic: DLQ, metrics, retry: FAST_RETRY };
    const a = runSink(sinkOver('current', up), deps);
    const b = runSink(sinkOver('stalled', down), deps);
    down.setDown(true);
    const t0 = Date.now();
    let n = 0;
    let maxLagOfA = 0;
    // Events keep flowing for the whole outage; the healthy sink keeps up with them throughout.
    while (Date.now() - t0 < 10_000) {
      append(log, n, 20);
      n += 20;
      await sleep(100);
      maxLagOfA = Math.max(maxLagOfA, log.lag('g-current', [TOPIC]));
    }
    await until(() => up.docs.size === n);
    expect(log.lag('g-current', [TOPIC])).toBe(0);
    expect(maxLagOfA).toBeLessThan(200);
    // The stalled sink held nothing and says so: its lag is the whole stretch, its status retrying.
    expect(down.docs.size).toBe(0);
    await b.refreshLag();
    expect(b.lag()).toBeGreaterThan(0);
    expect(b.stats.status).toBe('retrying');
    expect(await metrics.render()).toMatch(/sentencify_sink_up\{sink="stalled"\} 0/);
    down.setDown(false);
    await until(() => down.docs.size === n && log.lag('g-stalled', [TOPIC]) === 0);
    expect(new Set(down.docs.keys())).toEqual(ids(n));
    expect(new Set(up.docs.keys())).toEqual(ids(n));
    // Failed applies wrote nothing, so no record was written twice by either sink.
    expect(Math.max(...down.writes.values())).toBe(1);
    expect(Math.max(...up.writes.values())).toBe(1);
    expect(b.stats.status).toBe('running');
    expect(metrics.value('sentencify_sink_records_total', { sink: 'stalled' })).toBe(n);
    await Promise.all([a.stop(), b.stop()]);
  }, 60_000);

  it('killed mid-apply, a restart replays from the last commit and leaves the store as an uninterrupted run', async () => {
    const log = await newLog();
    append(log, 0, 300);
    const store = flakyStore();
    let applies = 0;
    let release: () => void = () => {};
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    // The third apply writes half its records, then hangs: the process dies there.
    const killable: Sink = sinkOver('s', store, {
      apply: async (records) => {
        applies++;
        if (applies === 3) {
          await store.upsert(records.slice(0, Math.floor(records.length / 2)));
          await blocked;
        }
        await store.upsert(records);
        return undefined;
      },
    });
    const deps = { log, deadLetterTopic: DLQ, retry: FAST_RETRY, maxBatchSize: 40 };
    const first = runSink(killable, deps);
    await until(() => applies === 3);
    first.kill();
    release();
    const committed = log.committed('g-s').reduce((s, c) => s + c.offset, 0);
    expect(committed).toBeLessThan(300);
    const second: RunningSink = runSink(sinkOver('s', store), deps);
    await until(() => log.lag('g-s', [TOPIC]) === 0);
    await second.stop();
    expect(new Set(store.docs.keys())).toEqual(ids(300));
    // Replayed records were written again (at least once) and stored once (idempotent write model).
    expect([...store.writes.values()].some((w) => w > 1)).toBe(true);
    expect(store.docs.size).toBe(300);
  });

  it('micro-batches across deliveries: 150 records are one apply of 100 and one of 50, the rest on time', async () => {
    const log = await newLog();
    const sizes: number[] = [];
    const sink: Sink = {
      name: 'archive',
      group: 'g-archive',
      topics: [TOPIC],
      batch: { size: 100, maxWaitMs: 300 },
      apply: async (records) => {
        sizes.push(records.length);
        return undefined;
      },
    };
    const running = runSink(sink, { log, deadLetterTopic: DLQ, maxBatchSize: 30 });
    append(log, 0, 150);
    await until(() => sizes.length === 2);
    expect(sizes).toEqual([100, 50]);
    const t = Date.now();
    append(log, 150, 7);
    await until(() => sizes.length === 3);
    // A partial batch waits for more, then goes when its first record is maxWaitMs old.
    expect(Date.now() - t).toBeGreaterThanOrEqual(250);
    expect(sizes[2]).toBe(7);
    await until(() => log.lag('g-archive', [TOPIC]) === 0);
    await running.stop();
  });

  it('dead-letters what the store refused, with the reason, and commits past it', async () => {
    const log = await newLog();
    append(log, 0, 10);
    const sink: Sink = {
      name: 'picky',
      group: 'g-picky',
      topics: [TOPIC],
      apply: async (records) => ({
        rejected: records
          .filter((r) => r.value.toString().includes('"r3"'))
          .map((record) => ({ record, reason: 'document over 16 MB' })),
      }),
    };
    const running = runSink(sink, { log, deadLetterTopic: DLQ });
    await until(() => log.lag('g-picky', [TOPIC]) === 0);
    await running.stop();
    const dead = log.read(DLQ).map((r) => JSON.parse(r.value.toString()));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      code: 'sink_rejected',
      sink: 'picky',
      reason: 'picky: document over 16 MB',
    });
    expect(dead[0].raw).toContain('"r3"');
    expect(dead[0].dead_lettered_from).toMatch(/^h\/\d+@\d+$/);
    expect(running.stats.rejected).toBe(1);
  });

  it('a non-retriable failure stops only that sink and reports it; nothing is committed past it', async () => {
    const log = await newLog();
    append(log, 0, 20);
    const errors: unknown[] = [];
    const fatal: Sink = {
      name: 'broken',
      group: 'g-broken',
      topics: [TOPIC],
      apply: async () => {
        throw new SinkError('collection_dimension', 'collection has dimension 64, the embedder 384', {
          retriable: false,
        });
      },
    };
    const okStore = flakyStore();
    const deps = { log, deadLetterTopic: DLQ, retry: FAST_RETRY, onError: (e: unknown) => errors.push(e) };
    const broken = runSink(fatal, deps);
    const ok = runSink(sinkOver('ok', okStore), deps);
    await until(() => errors.length === 1 && okStore.docs.size === 20);
    expect(broken.stats.status).toBe('failed');
    expect(String((errors[0] as Error).message)).toMatch(/sink broken failed: collection has dimension 64/);
    expect(log.lag('g-broken', [TOPIC])).toBe(20);
    await Promise.all([broken.stop(), ok.stop()]);
  });

  describe('pipelining: the next chunk is prepared while the one before is written', () => {
    /**
     * A sink whose applies the test releases one by one, recording what ran when; and a check,
     * run every millisecond and at every apply, that each committed position covers only records
     * whose apply had already returned (a commit never passes unconfirmed output).
     */
    function gatedSink(log: EmbeddedLog, failAt?: number) {
      const trace: string[] = [];
      const confirmed = new Set<string>();
      const violations: string[] = [];
      const gates: (() => void)[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      let applies = 0;
      const check = () => {
        for (const c of log.committed('g-gated'))
          for (let o = 0; o < c.offset; o++)
            if (!confirmed.has(`${c.partition}@${o}`))
              violations.push(`${c.partition}@${o} committed unconfirmed`);
      };
      const key = (r: LogRecord) => `${r.partition}@${r.offset}`;
      const sink: Sink<string[]> = {
        name: 'gated',
        group: 'g-gated',
        topics: [TOPIC],
        batch: { size: 10, maxWaitMs: 5_000 },
        prepare: (records) => {
          trace.push(`prepare ${records.map(key).join(',')}`);
          return records.map(key);
        },
        apply: async (records, prepared) => {
          const n = ++applies;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          check();
          trace.push(`apply ${n}`);
          // What was prepared is this chunk's, not a neighbour's.
          if (prepared?.join(',') !== records.map(key).join(','))
            violations.push(`apply ${n} got another prepare`);
          await new Promise<void>((r) => gates.push(r));
          inFlight--;
          if (n === failAt)
            throw new SinkError('mapping', 'a mapping conflict no retry fixes', { retriable: false });
          for (const r of records) confirmed.add(key(r));
          trace.push(`done ${n}`);
          return undefined;
        },
      };
      return {
        sink,
        trace,
        violations,
        check,
        maxInFlight: () => maxInFlight,
        applies: () => applies,
        release: () => gates.shift()?.(),
        prepares: () => trace.filter((t) => t.startsWith('prepare')).length,
      };
    }

    it.each([0, 1])(
      'prepares chunk n+1 while chunk n is written, holds at most one prepared, and commits only what apply confirmed (commitIntervalMs %i)',
      async (commitIntervalMs) => {
        const log = await newLog();
        append(log, 0, 60);
        const g = gatedSink(log);
        const timer = setInterval(g.check, 1);
        const running = runSink(g.sink, { log, deadLetterTopic: DLQ, maxBatchSize: 10, commitIntervalMs });
        try {
          await until(() => g.applies() === 1 && g.prepares() === 2);
          // Chunk 2 is prepared while chunk 1 is still being written; chunk 3 waits.
          await sleep(50);
          expect(g.prepares()).toBe(2);
          expect(g.applies()).toBe(1);
          expect(log.committed('g-gated').reduce((s, c) => s + c.offset, 0)).toBe(0);
          for (let n = 1; n <= 6; n++) {
            await until(() => g.applies() === n);
            await sleep(5);
            g.release();
          }
          await until(() => log.lag('g-gated', [TOPIC]) === 0);
        } finally {
          clearInterval(timer);
          await running.stop();
        }
        g.check();
        expect(g.violations).toEqual([]);
        expect(g.maxInFlight()).toBe(1);
        expect(g.applies()).toBe(6);
        // Apply n always starts after apply n-1 is done; prepare n+1 comes before done n.
        const pos = (t: string) => g.trace.indexOf(t);
        for (let n = 2; n <= 6; n++) expect(pos(`done ${n - 1}`)).toBeLessThan(pos(`apply ${n}`));
        expect(g.trace.filter((t) => t.startsWith('prepare')).indexOf(g.trace[pos('done 1') - 1]!)).toBe(1);
        expect(running.stats.records).toBe(60);
      },
    );

    it('a chunk that fails for good while the next is prepared: the sink stops, nothing past the last confirmed chunk is committed', async () => {
      const log = await newLog();
      append(log, 0, 40);
      const errors: unknown[] = [];
      const g = gatedSink(log, 2);
      const running = runSink(g.sink, {
        log,
        deadLetterTopic: DLQ,
        maxBatchSize: 10,
        retry: FAST_RETRY,
        onError: (e) => errors.push(e),
      });
      await until(() => g.applies() === 1 && g.prepares() === 2);
      g.release();
      await until(() => g.applies() === 2 && g.prepares() === 3);
      g.release();
      await until(() => errors.length === 1);
      await sleep(50);
      g.check();
      expect(g.violations).toEqual([]);
      expect(running.stats.status).toBe('failed');
      expect(errors).toHaveLength(1);
      expect(String((errors[0] as Error).message)).toMatch(/sink gated failed: a mapping conflict/);
      // Chunk 1 (10 records) was confirmed and committed; chunk 2 failed; chunk 3 never applied.
      expect(log.lag('g-gated', [TOPIC])).toBe(30);
      expect(g.applies()).toBe(2);
      await running.stop();
    });
  });
  describe('commit interval (commitIntervalMs > 0)', () => {
    /** The same log, but every commit waits until the test releases it. */
    function heldCommits(log: EmbeddedLog) {
      const held: (() => void)[] = [];
      let done = 0;
      const wrapped = Object.assign(Object.create(log) as EmbeddedLog, {
        consumer: (o: Parameters<EmbeddedLog['consumer']>[0]) => {
          const c = log.consumer(o);
          return {
            deliveries$: c.deliveries$,
            commit: async (offsets: Parameters<typeof c.commit>[0]) => {
              await new Promise<void>((r) => held.push(r));
              await c.commit(offsets);
              done++;
            },
          };
        },
      });
      return {
        log: wrapped,
        held: () => held.length,
        done: () => done,
        releaseAll: () => {
          for (const r of held.splice(0)) r();
        },
      };
    }
    const batched = (store: ReturnType<typeof flakyStore>) =>
      sinkOver('batched', store, { batch: { size: 10, maxWaitMs: 5_000 } });

    it('applies do not wait for a commit round trip (without an interval they do)', async () => {
      for (const commitIntervalMs of [0, 1]) {
        const log = await newLog();
        append(log, 0, 60);
        const h = heldCommits(log);
        const store = flakyStore();
        const running = runSink(batched(store), {
          log: h.log,
          deadLetterTopic: DLQ,
          maxBatchSize: 10,
          commitIntervalMs,
        });
        await until(() => h.held() > 0);
        await sleep(100);
        // Without an interval the second chunk waits for the first chunk's commit.
        expect(store.docs.size, `commitIntervalMs ${commitIntervalMs}`).toBe(
          commitIntervalMs === 0 ? 10 : 60,
        );
        expect(log.lag('g-batched', [TOPIC])).toBe(60);
        while (log.lag('g-batched', [TOPIC]) > 0) {
          h.releaseAll();
          await sleep(5);
        }
        expect(store.docs).toEqual(new Map([...ids(60)].map((id) => [id, 1])));
        const stopping = running.stop();
        while (h.held() > 0 || !(await Promise.race([stopping.then(() => true), sleep(5).then(() => false)])))
          h.releaseAll();
        await stopping;
      }
    });

    it('commits on the interval, when caught up and at stop', async () => {
      // This log announces "caught up" once and not again for an hour. Deliveries wait for the chunk
      // before theirs (each apply takes 30 ms), so that comes once the last chunk is being written:
      // the three chunks before it are committed then, the last one only by the interval or stop.
      const log = new EmbeddedLog({ idleIntervalMs: 3_600_000 });
      await log.ensureTopics([
        { topic: TOPIC, partitions: 3 },
        { topic: DLQ, partitions: 1 },
      ]);
      append(log, 0, 40);
      const store = flakyStore();
      const slow = sinkOver('batched', store, {
        batch: { size: 10, maxWaitMs: 5_000 },
        apply: async (records) => {
          await sleep(30);
          await store.upsert(records);
          return undefined;
        },
      });
      const running = runSink(slow, {
        log,
        deadLetterTopic: DLQ,
        maxBatchSize: 10,
        commitIntervalMs: 3_600_000,
      });
      await until(() => store.docs.size === 40);
      await sleep(50);
      // The last chunk is applied, but the interval has not come round: not committed yet.
      expect(log.lag('g-batched', [TOPIC])).toBe(10);
      await running.stop();
      expect(log.lag('g-batched', [TOPIC])).toBe(0);

      // With the idle signal, being caught up commits at once.
      const log2 = await newLog();
      append(log2, 0, 40);
      const store2 = flakyStore();
      const running2 = runSink(batched(store2), {
        log: log2,
        deadLetterTopic: DLQ,
        maxBatchSize: 10,
        commitIntervalMs: 3_600_000,
      });
      await until(() => log2.lag('g-batched', [TOPIC]) === 0);
      expect(store2.docs.size).toBe(40);
      await running2.stop();
    });
  });
});
