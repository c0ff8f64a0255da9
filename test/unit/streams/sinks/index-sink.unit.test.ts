import { describe, expect, it } from 'vitest';
import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import type { VectorIndex, VectorPoint } from '../../../../api/vector/vector-index.ts';
import exampleH from '../../../../schemas/examples/h-training-example.json' with { type: 'json' };
import { DEFAULT_TOPICS } from '../../../../schemas/index.ts';
import { decodeExample } from '../../../../streams/codec/session-codec.ts';
import type { Embedder } from '../../../../streams/embeddings/embedder.ts';
import { createHashingEmbedder } from '../../../../streams/embeddings/hashing-embedder.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { createIndexSink, decodeExampleFast } from '../../../../streams/sinks/index-sink.ts';

const topic = DEFAULT_TOPICS.trainingExamples;
const dim = 16;
let offset = 0;
const rec = (value: unknown): LogRecord => ({
  topic,
  partition: 0,
  offset: offset++,
  timestamp: 0,
  key: exampleH.user_id,
  value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
});
/** A revision of a session; `low` makes it one that no longer qualifies for the index. */
const h = (session: string, revision: number, low = false) =>
  rec({
    ...exampleH,
    recommend_session_id: session,
    event_id: `h:${session}:${revision}`,
    revision,
    consistency: low ? 'low' : 'high',
    context: { ...exampleH.context, text: `${exampleH.context.text} ${session}` },
  });

type Op = { op: 'upsert' | 'delete'; ids: string[] };

/** The in-memory index behind a log of writes, each held `delayMs` in flight. */
function recordingIndex(delayMs = 0, failOn?: (op: Op) => boolean) {
  const inner = createMemoryVectorIndex({ dim });
  const ops: Op[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = async (op: Op, f: () => Promise<void>) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, delayMs));
      if (failOn?.(op)) throw new Error('store away');
      await f();
      ops.push(op);
    } finally {
      inFlight--;
    }
  };
  const index: VectorIndex = {
    backend: 'memory',
    dim,
    upsert: (points: readonly VectorPoint[]) =>
      run({ op: 'upsert', ids: points.map((p) => p.id) }, () => inner.upsert(points)),
    delete: (ids: readonly string[]) => run({ op: 'delete', ids: [...ids] }, () => inner.delete(ids)),
    search: (v, k, f) => inner.search(v, k, f),
    size: () => inner.size(),
  };
  return { index, inner, ops, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

const ids = async (index: VectorIndex) =>
  (await index.search(new Float32Array(dim).fill(1), 1000)).map((x) => x.id).sort();

describe('index sink', () => {
  it('indexes the latest qualifying revision per session and deletes one that stopped qualifying', async () => {
    const { index } = recordingIndex();
    const sink = createIndexSink({ index, embedder: createHashingEmbedder(dim), topic, group: 'g' });
    const out = await sink.apply([h('s1', 1), h('s2', 1), h('s2', 2, true), rec(Buffer.from('junk'))]);
    expect(out?.counts).toEqual({ upserts: 1, deletes: 1, undecodable: 1 });
    expect(await ids(index)).toEqual(['s1']);
  });

  it('writes in record order across parts: a later revision’s delete lands after an earlier upsert', async () => {
    const r = recordingIndex(5);
    const sink = createIndexSink({
      index: r.index,
      embedder: createHashingEmbedder(dim),
      topic,
      group: 'g',
      partSize: 2,
    });
    // s1 qualifies in part 1 and stops qualifying in part 2; s2 the other way round.
    const batch = [h('s1', 1), h('s2', 1, true), h('s1', 2, true), h('s2', 2), h('s3', 1)];
    await sink.apply(batch);
    expect(r.ops).toEqual([
      { op: 'upsert', ids: ['s1'] },
      { op: 'delete', ids: ['s1'] },
      { op: 'upsert', ids: ['s2'] },
      { op: 'upsert', ids: ['s3'] },
    ]);
    expect(r.maxInFlight()).toBe(1);
    expect(await ids(r.index)).toEqual(['s2', 's3']);
    // A replay, in any split, ends in the same index.
    for (const partSize of [1, 3, 128]) {
      await createIndexSink({
        index: r.index,
        embedder: createHashingEmbedder(dim),
        topic,
        group: 'g',
        partSize,
      }).apply(batch);
      expect(await ids(r.index)).toEqual(['s2', 's3']);
    }
  });

  it('prepares the next part while the previous part’s upsert is in flight', async () => {
    const r = recordingIndex(30);
    const base = createHashingEmbedder(dim);
    const embedsWhileWriting: number[] = [];
    const embedder: Embedder = {
      ...base,
      embed: async (texts) => {
        embedsWhileWriting.push(r.inFlight());
        return base.embed(texts);
      },
    };
    const sink = createIndexSink({ index: r.index, embedder, topic, group: 'g', partSize: 2 });
    const batch = Array.from({ length: 8 }, (_, i) => h(`p${i}`, 1));
    const t0 = performance.now();
    await sink.apply(batch);
    // Four parts: the first is embedded before any write, the other three during one.
    expect(embedsWhileWriting).toEqual([0, 1, 1, 1]);
    expect(r.ops.map((x) => x.ids)).toEqual([
      ['p0', 'p1'],
      ['p2', 'p3'],
      ['p4', 'p5'],
      ['p6', 'p7'],
    ]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4 * 29);
    expect(r.inFlight()).toBe(0);
  });

  it('a failed write stops the batch, and apply throws only once no write is in flight', async () => {
    const r = recordingIndex(10, (op) => op.ids.includes('p2'));
    const sink = createIndexSink({
      index: r.index,
      embedder: createHashingEmbedder(dim),
      topic,
      group: 'g',
      partSize: 2,
    });
    const batch = Array.from({ length: 8 }, (_, i) => h(`p${i}`, 1));
    await expect(sink.apply(batch)).rejects.toThrow('store away');
    expect(r.inFlight()).toBe(0);
    expect(r.ops.map((x) => x.ids)).toEqual([['p0', 'p1']]);
    // The retry applies the whole batch again.
    const ok = recordingIndex(0);
    await createIndexSink({
      index: ok.index,
      embedder: createHashingEmbedder(dim),
      topic,
      group: 'g',
      partSize: 2,
    }).apply(batch);
    expect(await ids(ok.index)).toEqual(batch.map((_, i) => `p${i}`));
  });

  it('an embedder failure waits for the write already in flight before it surfaces', async () => {
    const r = recordingIndex(30);
    const base = createHashingEmbedder(dim);
    let calls = 0;
    const embedder: Embedder = {
      ...base,
      embed: async (texts) => {
        if (++calls === 2) throw new Error('embedder away');
        return base.embed(texts);
      },
    };
    const sink = createIndexSink({ index: r.index, embedder, topic, group: 'g', partSize: 2 });
    await expect(sink.apply(Array.from({ length: 6 }, (_, i) => h(`p${i}`, 1)))).rejects.toThrow(
      'embedder away',
    );
    expect(r.inFlight()).toBe(0);
    expect(r.ops.map((x) => x.ids)).toEqual([['p0', 'p1']]);
  });

  it('upserts a part in slices of sliceSize points', async () => {
    const r = recordingIndex();
    const sink = createIndexSink({
      index: r.index,
      embedder: createHashingEmbedder(dim),
      topic,
      group: 'g',
      sliceSize: 2,
      partSize: 5,
    });
    await sink.apply(Array.from({ length: 5 }, (_, i) => h(`p${i}`, 1)));
    expect(r.ops.map((x) => x.ids.length)).toEqual([2, 2, 1]);
  });
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path into a value (the root excluded): where a breakage can go. */
function pathsOf(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  const entries: [string | number, Json][] = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : v !== null && typeof v === 'object'
      ? Object.entries(v)
      : [];
  for (const [k, x] of entries) {
    out.push([...prefix, k]);
    pathsOf(x, [...prefix, k], out);
  }
  return out;
}

/** A copy of `v` with the value at `path` replaced (`undefined`: deleted). */
function withAt(v: Json, path: (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(v);
  let cur = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

describe('the fast H decode', () => {
  const base = exampleH as unknown as Json;
  const valid: Json[] = [
    base,
    { ...(base as Record<string, Json>), context: null, chosen_option: null, outcome: 'rejected' },
    { ...(base as Record<string, Json>), consistency: 'low', revision: 3, extra_key: 1 },
  ];
  const odd: (Json | undefined)[] = [
    undefined,
    null,
    0,
    -1,
    1.5,
    2 ** 53,
    '',
    'x',
    '😀',
    'x'.repeat(20_000),
    '2026-13-01T00:00:00Z',
    true,
    [],
    {},
    { __proto__: 1 } as unknown as Json,
  ];
  const cases: Json[] = [...valid];
  for (const v of valid) for (const path of pathsOf(v)) for (const x of odd) cases.push(withAt(v, path, x));

  it('vouches for valid H (the fast path is on) with zod’s output, key order included', () => {
    for (const v of valid) {
      const r = rec(v);
      const fast = decodeExampleFast(r);
      expect('code' in fast).toBe(false);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(decodeExample(r)));
    }
  });

  it(`gives decodeExample’s answer, dead letters and reasons included, on ${cases.length} breakages`, () => {
    let invalid = 0;
    for (const c of [...cases, Buffer.from('{"truncated'), Buffer.from([0, 0, 0, 0, 1, 123, 125])]) {
      const r = rec(c);
      const fast = decodeExampleFast(r);
      const zod = decodeExample(r);
      if ('code' in zod) invalid++;
      expect(JSON.stringify(fast)).toBe(JSON.stringify(zod));
    }
    expect(invalid).toBeGreaterThan(cases.length / 3);
  });
});
