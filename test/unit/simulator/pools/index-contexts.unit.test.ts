import { describe, expect, it } from 'vitest';
import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import { loadContextPool } from '../../../../simulator/pools/contexts.ts';
import { contextPoolPoints, indexContextPool } from '../../../../simulator/pools/index-contexts.ts';
import { createHashingEmbedder, hashEmbed } from '../../../../streams/embeddings/hashing-embedder.ts';

const TS = '2026-01-01T00:00:00.000Z';

describe('indexContextPool', () => {
  it('indexes every pool context once, idempotently, with progress', async () => {
    const samples = loadContextPool();
    const index = createMemoryVectorIndex({ dim: 384 });
    const progress: number[] = [];
    const o = { embedder: createHashingEmbedder(), index, ts: TS, batchSize: 500 };
    const first = await indexContextPool(samples, { ...o, onProgress: (d) => progress.push(d) });
    expect(first).toEqual({ upserted: samples.length, size: samples.length });
    expect(progress).toEqual([0, 500, 1000, 1500, samples.length].filter((n, i, a) => a.indexOf(n) === i));
    const again = await indexContextPool(samples, o);
    expect(again.size).toBe(samples.length);
    // A context finds itself first, with the pool payload.
    const s = samples[17]!;
    const [hit] = await index.search(hashEmbed(s.text), 1, { language: s.language });
    expect(hit!.id).toBe(s.id);
    expect(hit!.payload).toMatchObject({
      category: s.category,
      option_key: null,
      user_id: null,
      example_id: `e:${s.id}`,
    });
  });

  it('refuses embeddings that do not line up with the contexts', () => {
    expect(() => contextPoolPoints(loadContextPool().slice(0, 2), [new Float32Array(4)], TS)).toThrow(
      RangeError,
    );
  });
});
