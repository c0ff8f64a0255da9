import { describe, expect, it } from 'vitest';
import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import type { VectorIndex, VectorPoint } from '../../../../api/vector/vector-index.ts';
import exampleA from '../../../../schemas/examples/a-recommend.json' with { type: 'json' };
import exampleH from '../../../../schemas/examples/h-training-example.json' with { type: 'json' };
import { DEFAULT_TOPICS } from '../../../../schemas/index.ts';
import { createHashingEmbedder } from '../../../../streams/embeddings/hashing-embedder.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { createArchiveSink } from '../../../../streams/sinks/archive-sink.ts';
import { createIndexSink } from '../../../../streams/sinks/index-sink.ts';
import type { Sink } from '../../../../streams/sinks/sink.ts';
import { createMemoryArchiveStore } from '../../../../streams/stores/archive-store.ts';

/**
 * A sink's `prepare` is only a head start: `apply(batch, await prepare(batch))` must write and
 * return exactly what `apply(batch)` does, for good and bad records alike.
 */
const T = DEFAULT_TOPICS;
const dim = 16;
const rec = (topic: string, offset: number, value: unknown, key: string | null): LogRecord => ({
  topic,
  partition: 0,
  offset,
  timestamp: 0,
  key,
  value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
});

async function both<P>(
  make: () => { sink: Sink<P>; contents: () => Promise<unknown> },
  batches: LogRecord[][],
) {
  const plain = make();
  const prepared = make();
  const plainResults = [];
  const preparedResults = [];
  for (const b of batches) {
    plainResults.push(await plain.sink.apply(b));
    const p = await plain.sink.prepare!(b);
    preparedResults.push(await prepared.sink.apply(b, p));
  }
  return {
    plain: { results: plainResults, contents: await plain.contents() },
    prepared: { results: preparedResults, contents: await prepared.contents() },
  };
}

describe('prepared batches write what unprepared ones do', () => {
  it('index sink: same writes in the same order, same counts, over revisions, low consistency and bad H', async () => {
    let offset = 0;
    const h = (session: string, revision: number, low = false) =>
      rec(
        T.trainingExamples,
        offset++,
        {
          ...exampleH,
          recommend_session_id: session,
          event_id: `h:${session}:${revision}`,
          revision,
          consistency: low ? 'low' : 'high',
          context: { ...exampleH.context, text: `${exampleH.context.text} ${session}` },
        },
        exampleH.user_id,
      );
    const records: LogRecord[] = [];
    for (let i = 0; i < 300; i++) {
      records.push(h(`s${i % 120}`, 1 + Math.floor(i / 120), i % 7 === 3));
      if (i % 50 === 0) records.push(rec(T.trainingExamples, offset++, Buffer.from('{not json'), null));
      if (i % 61 === 0) records.push(rec(T.trainingExamples, offset++, { ...exampleH, revision: -1 }, null));
    }
    const batches = [records.slice(0, 90), records.slice(90, 250), records.slice(250)];
    const out = await both(() => {
      const inner = createMemoryVectorIndex({ dim });
      const ops: string[] = [];
      const index: VectorIndex = {
        ...inner,
        backend: 'memory',
        dim,
        upsert: async (points: readonly VectorPoint[]) => {
          ops.push(`upsert ${points.map((p) => `${p.id}:${p.payload.example_id}`).join(',')}`);
          await inner.upsert(points);
        },
        delete: async (ids: readonly string[]) => {
          ops.push(`delete ${ids.join(',')}`);
          await inner.delete(ids);
        },
      };
      const sink = createIndexSink({
        index,
        embedder: createHashingEmbedder(dim),
        topic: T.trainingExamples,
        group: 'g',
        partSize: 64,
      });
      return { sink, contents: async () => ({ ops, size: await inner.size() }) };
    }, batches);
    expect(out.prepared).toEqual(out.plain);
    expect((out.plain.contents as { ops: string[] }).ops.some((o) => o.startsWith('delete'))).toBe(true);
  });

  it('archive sink: same documents, rejections and counts, over events, bad JSON and a foreign topic', async () => {
    const records: LogRecord[] = [];
    for (let i = 0; i < 120; i++) {
      const e = { ...exampleA, event_id: `evt-${i % 100}`, recommend_session_id: `rs-${i % 30}` };
      records.push(rec(T.recommend, i, i % 17 === 5 ? Buffer.from('{"type":') : e, e.recommend_session_id));
    }
    records.push(rec('elsewhere', 0, exampleA, null));
    const batches = [records.slice(0, 60), records.slice(60)];
    const out = await both(() => {
      const store = createMemoryArchiveStore();
      const sink = createArchiveSink({ store, topics: T });
      return {
        sink,
        contents: async () => ({
          events: await store.countEvents(),
          session: await store.eventsOfSession('rs-3'),
        }),
      };
    }, batches);
    expect(out.prepared).toEqual(out.plain);
    expect(out.plain.results.some((r) => (r?.rejected?.length ?? 0) > 0)).toBe(true);
  });
});
