import { describe, expect, it } from 'vitest';
import exampleA from '../../../../schemas/examples/a-recommend.json' with { type: 'json' };
import exampleC from '../../../../schemas/examples/c-selection.json' with { type: 'json' };
import deadLetter from '../../../../schemas/examples/dead-letter.json' with { type: 'json' };
import { DEFAULT_TOPICS } from '../../../../schemas/index.ts';
import { EmbeddedLog } from '../../../../streams/log/embedded-log.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { runSink } from '../../../../streams/runtime/sink-runtime.ts';
import { createArchiveSink, DEFAULT_ARCHIVE_BATCH } from '../../../../streams/sinks/archive-sink.ts';
import { SinkError } from '../../../../streams/sinks/sink.ts';
import { type ArchiveStore, createMemoryArchiveStore } from '../../../../streams/stores/archive-store.ts';

const T = DEFAULT_TOPICS;
let offset = 0;
const rec = (topic: string, value: unknown, key: string | null = 'rs-1'): LogRecord => ({
  topic,
  partition: 2,
  offset: offset++,
  timestamp: Date.UTC(2026, 10, 23, 10),
  key,
  value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
});
const a = (i: number, extra: Record<string, unknown> = {}) => ({
  ...exampleA,
  event_id: `evt-a-${i}`,
  ...extra,
});

describe('archive sink', () => {
  it('reads A, B, C and the dead-letter topic in the seeds’ micro-batch of 100', () => {
    const sink = createArchiveSink({ store: createMemoryArchiveStore(), topics: T });
    expect(sink.topics).toEqual([T.recommend, T.paraphrase, T.selection, T.deadLetter]);
    expect(sink.batch).toEqual({ size: 100, maxWaitMs: 500 });
    expect(DEFAULT_ARCHIVE_BATCH).toEqual(sink.batch);
    expect(sink.group).toBe('sentencify-archive');
    expect(sink.name).toBe('archive');
  });

  it('archives every event once, with the whole event, and counts a replay as duplicates', async () => {
    const store = createMemoryArchiveStore();
    const sink = createArchiveSink({ store, topics: T });
    const batch = [
      rec(T.recommend, a(1, { extra_field: 'kept' })),
      rec(T.selection, exampleC),
      rec(T.recommend, a(2)),
    ];
    expect(await sink.apply(batch)).toEqual({
      rejected: [],
      counts: { archived: 3, dead_letters_archived: 0, duplicates: 0 },
    });
    expect(await sink.apply([...batch, rec(T.recommend, a(3))])).toEqual({
      rejected: [],
      counts: { archived: 1, dead_letters_archived: 0, duplicates: 3 },
    });
    const session = await store.eventsOfSession(exampleA.recommend_session_id);
    expect(session.map((e) => e._id)).toEqual(['evt-a-1', 'evt-a-2', 'evt-a-3', exampleC.event_id]);
    const first = session[0]!;
    expect(first).toMatchObject({
      type: 'recommend',
      user_id: exampleA.user_id,
      ts: new Date(exampleA.ts),
      origin: { topic: T.recommend, partition: 2, offset: batch[0]!.offset },
    });
    expect(first.event).toEqual(a(1, { extra_field: 'kept' }));
  });

  it('archives what was published: only the envelope is checked, a broken body is kept as it is', async () => {
    const store = createMemoryArchiveStore();
    const sink = createArchiveSink({ store, topics: T });
    const out = await sink.apply([rec(T.recommend, a(11, { options: 'not a list', alpha: 7 }))]);
    expect(out?.counts?.archived).toBe(1);
    const [doc] = await store.eventsOfSession(exampleA.recommend_session_id);
    expect(doc?.event).toMatchObject({ options: 'not a list', alpha: 7 });
  });

  it('reads registry-framed values (magic byte and schema id) like plain JSON', async () => {
    const store = createMemoryArchiveStore();
    const sink = createArchiveSink({ store, topics: T });
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from(JSON.stringify(a(9)))]);
    expect((await sink.apply([rec(T.recommend, framed)]))?.counts?.archived).toBe(1);
  });

  it('rejects what is not an event, or what MongoDB would refuse, with a reason, and archives the rest', async () => {
    const sink = createArchiveSink({ store: createMemoryArchiveStore(), topics: T });
    const bad = [
      rec(T.recommend, Buffer.from('{not json')),
      rec(T.recommend, { type: 'recommend', event_id: 'x' }),
      rec(T.recommend, a(5, { meta: { $set: 1 } })),
      rec(T.recommend, a(6, { blob: 'x'.repeat(16 * 1024 * 1024) })),
    ];
    const out = await sink.apply([rec(T.recommend, a(4)), ...bad, rec('elsewhere', a(7))]);
    expect(out?.counts).toEqual({ archived: 1, dead_letters_archived: 0, duplicates: 0 });
    const reasons = new Map(out!.rejected!.map((r) => [r.record.offset, r.reason]));
    expect(reasons.get(bad[0]!.offset)).toMatch(/^not JSON/);
    expect(reasons.get(bad[1]!.offset)).toMatch(/^not an A\/B\/C event: .*user_id/);
    expect(reasons.get(bad[2]!.offset)).toMatch(/"event\.meta\.\$set" starts with "\$"/);
    expect(reasons.get(bad[3]!.offset)).toMatch(/over MongoDB's 16777216-byte \(16 MB\) limit/);
    expect([...reasons.values()].some((r) => /elsewhere is not archived/.test(r))).toBe(true);
    expect(out!.rejected).toHaveLength(5);
  });

  it('keeps dead letters in their own collection, once, and never bounces an unreadable one', async () => {
    const store = createMemoryArchiveStore();
    const sink = createArchiveSink({ store, topics: T });
    const letter = rec(T.deadLetter, deadLetter, deadLetter.recommend_session_id);
    const junk = rec(T.deadLetter, Buffer.from('garbage'));
    expect(await sink.apply([letter, junk])).toEqual({
      rejected: [],
      counts: { archived: 0, dead_letters_archived: 2, duplicates: 0 },
    });
    expect((await sink.apply([letter]))?.counts).toMatchObject({ dead_letters_archived: 0, duplicates: 1 });
    const [d] = await store.deadLettersByCode('session_closed');
    expect(d).toMatchObject({
      _id: `session_closed:${deadLetter.topic}/${deadLetter.partition}@${deadLetter.offset}`,
      reason: deadLetter.reason,
      origin: { topic: deadLetter.topic, partition: deadLetter.partition, offset: deadLetter.offset },
      event_id: deadLetter.event_id,
      ts: new Date(letter.timestamp),
    });
    expect(d!.event).toMatchObject({ event_id: deadLetter.event_id });
    const [u] = await store.deadLettersByCode('unreadable');
    expect(u).toMatchObject({ raw: 'garbage', origin: { topic: T.deadLetter, offset: junk.offset } });
    expect(u!.reason).toMatch(/not JSON/);
    expect(await store.countEvents()).toBe(0);
  });

  it('passes a store failure through, so the runtime retries the same batch', async () => {
    const down: ArchiveStore = {
      ...createMemoryArchiveStore(),
      insertEvents: async () => {
        throw new SinkError('mongo_unavailable', 'connection refused', { retriable: true });
      },
    };
    const sink = createArchiveSink({ store: down, topics: T });
    await expect(sink.apply([rec(T.recommend, a(8))])).rejects.toMatchObject({ retriable: true });
  });
});

describe('archive sink: prepare decodes, apply writes', () => {
  /** A store whose inserts wait until released, counting calls and inserts in flight. */
  const gatedStore = () => {
    const memory = createMemoryArchiveStore();
    const gates: (() => void)[] = [];
    const st = { calls: 0, inFlight: 0, maxInFlight: 0 };
    const store: ArchiveStore = {
      ...memory,
      insertEvents: async (docs) => {
        st.calls += 1;
        st.inFlight += 1;
        st.maxInFlight = Math.max(st.maxInFlight, st.inFlight);
        try {
          await new Promise<void>((r) => gates.push(r));
          return await memory.insertEvents(docs);
        } finally {
          st.inFlight -= 1;
        }
      },
    };
    const release = () => {
      for (const g of gates.splice(0)) g();
    };
    return { memory, store, st, release };
  };
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('prepare only decodes; its batch’s apply writes it', async () => {
    const { store, st, release } = gatedStore();
    const sink = createArchiveSink({ store, topics: T });
    const prepared = await sink.prepare!([rec(T.recommend, a(231))]);
    await tick();
    expect(st.calls).toBe(0);
    const applied = sink.apply([rec(T.recommend, a(231))], prepared);
    await tick();
    expect(st.calls).toBe(1);
    release();
    expect((await applied)?.counts).toMatchObject({ archived: 1, duplicates: 0 });
  });

  it('on the runtime: one insert in flight while the next batch is prepared, nothing committed before its insert confirmed', async () => {
    const log = new EmbeddedLog({ idleIntervalMs: 5 });
    await log.ensureTopics(
      [T.recommend, T.paraphrase, T.selection, T.deadLetter].map((topic) => ({ topic, partitions: 1 })),
    );
    const { memory, store, st, release } = gatedStore();
    const running = runSink(createArchiveSink({ store, topics: T }), {
      log,
      deadLetterTopic: T.deadLetter,
    });
    const events = Array.from({ length: 500 }, (_, i) => a(300 + i));
    await log.send(
      T.recommend,
      events.map((e) => ({ key: 'rs-1', value: Buffer.from(JSON.stringify(e)) })),
    );
    const until = async (cond: () => boolean) => {
      for (let i = 0; !cond(); i++) {
        if (i > 2000) throw new Error('timed out');
        await tick();
      }
    };
    // The first batch's insert is held: no second insert starts, nothing is committed.
    await until(() => st.inFlight === 1);
    await tick();
    expect(st.inFlight).toBe(1);
    expect(running.stats.records).toBe(0);
    expect(log.committed('sentencify-archive')).toEqual([]);
    while ((await memory.countEvents()) < 500) {
      release();
      await tick();
    }
    await until(() => running.stats.records === 500);
    expect(st.maxInFlight).toBe(1);
    expect(st.calls).toBe(5);
    expect(log.committed('sentencify-archive')).toMatchObject([
      { topic: T.recommend, partition: 0, offset: 500 },
    ]);
    expect(running.stats.outcomes).toMatchObject({ archived: 500, duplicates: 0 });
    await running.stop();
    await log.close();
  });
});

describe('archive sink on the sink runtime', () => {
  const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
    const t0 = Date.now();
    while (!(await cond())) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('the seeds’ test: 150 events are one insert of 100 and one of 50; a refused one ends in dead_letters', async () => {
    const log = new EmbeddedLog({ idleIntervalMs: 5 });
    await log.ensureTopics(
      [T.recommend, T.paraphrase, T.selection, T.deadLetter].map((topic) => ({ topic, partitions: 3 })),
    );
    const memory = createMemoryArchiveStore();
    const writes: number[] = [];
    const store: ArchiveStore = {
      ...memory,
      insertEvents: async (docs) => {
        writes.push(docs.length);
        return memory.insertEvents(docs);
      },
    };
    const running = runSink(createArchiveSink({ store, topics: T }), { log, deadLetterTopic: T.deadLetter });
    const events = Array.from({ length: 150 }, (_, i) => a(100 + i, { recommend_session_id: `rs-${i % 9}` }));
    await log.send(
      T.recommend,
      events.map((e) => ({ key: e.recommend_session_id, value: Buffer.from(JSON.stringify(e)) })),
    );
    await until(async () => (await memory.countEvents()) === 150);
    expect(writes).toEqual([100, 50]);

    // An event MongoDB would refuse: rejected, dead-lettered by the runtime, and that dead letter
    // is archived in its own collection with the sink's reason.
    const t0 = Date.now();
    await log.send(T.recommend, [{ key: 'rs-x', value: Buffer.from(JSON.stringify(a(999, { $bad: 1 }))) }]);
    await until(async () => (await memory.countDeadLetters()) === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // a partial batch waits its 500 ms
    const [letter] = await memory.deadLettersByCode('sink_rejected');
    expect(letter).toMatchObject({ sink: 'archive', origin: { topic: T.recommend } });
    expect(letter?.reason).toMatch(/archive: field "event\.\$bad" starts with "\$"/);
    expect(await memory.countEvents()).toBe(150);
    await running.stop();
    await log.close();
  });
});
