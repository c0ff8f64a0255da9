import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import type { ContextPayload, VectorPoint } from '../../../../api/vector/vector-index.ts';
import { VectorIndexError } from '../../../../api/vector/vector-index.ts';
import { TopK } from '../../../../api/vector/vector-math.ts';
import { mulberry32 } from '../../../../common/random.ts';
import { clusteredUnitVectors } from '../../../fixtures/synthetic-vectors.ts';

function payload(id: string, language = 'en', option_key: string | null = 'email:strong'): ContextPayload {
  return {
    option_key,
    category: option_key ? option_key.split(':')[0]! : null,
    intensity: option_key ? (option_key.split(':')[1] as 'strong') : null,
    style_request: null,
    language,
    user_id: 'u1',
    consistency: 'high',
    example_id: `h:${id}:1`,
    ts: '2026-01-01T00:00:00.000Z',
  };
}

function randomPoints(n: number, dim: number, seed: number, languages = ['en']): VectorPoint[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    vector: Float32Array.from({ length: dim }, () => rnd() * 2 - 1),
    payload: payload(`p${i}`, languages[i % languages.length]),
  }));
}

/** The obvious O(n·dim) search, written independently of the index. */
function bruteForce(points: readonly VectorPoint[], q: ArrayLike<number>, k: number, language?: string) {
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  const qn = norm(q);
  return points
    .filter((p) => language === undefined || p.payload.language === language)
    .map((p) => {
      let d = 0;
      for (let j = 0; j < q.length; j++) d += p.vector[j]! * q[j]!;
      return { id: p.id, score: d / (qn * norm(p.vector)) };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

function pointsFrom(data: Float32Array, dim: number, languageOf: (i: number) => string): VectorPoint[] {
  const n = data.length / dim;
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    vector: data.subarray(i * dim, i * dim + dim),
    payload: payload(`c${i}`, languageOf(i)),
  }));
}

describe('TopK', () => {
  it('keeps the k best of any sequence, best first', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true })), fc.nat(12), (scores, k) => {
        const top = new TopK(k);
        scores.forEach((s, i) => {
          top.offer(s, i);
        });
        const [got] = top.sorted();
        const want = [...scores].sort((a, b) => b - a).slice(0, k);
        expect(got).toEqual(want);
      }),
    );
  });
});

describe('createMemoryVectorIndex', () => {
  it('is exact while small: equals brute force (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 25 }),
        fc.nat(),
        (n, dim, k, seed) => {
          const points = randomPoints(n, dim, seed, ['en', 'ko']);
          const index = createMemoryVectorIndex({ dim });
          index.upsertSync(points);
          const q = randomPoints(1, dim, seed + 1)[0]!.vector;
          for (const language of [undefined, 'ko']) {
            const got = index.searchSync(q, k, language ? { language } : undefined);
            const want = bruteForce(points, q, k, language);
            // Ids may differ only among (near-)ties, so compare what each hit is worth instead.
            const truth = new Map(bruteForce(points, q, n, language).map((h) => [h.id, h.score]));
            expect(got).toHaveLength(want.length);
            got.forEach((h, i) => {
              expect(h.score).toBeCloseTo(want[i]!.score, 5);
              expect(truth.get(h.id)).toBeCloseTo(h.score, 5);
              expect(h.payload.language).toBe(language ?? h.payload.language);
            });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('as an IVF that probes every list, equals exact search, through splits, replacements and deletes', () => {
    const dim = 16;
    const index = createMemoryVectorIndex({ dim, exactBelow: 0, maxListSize: 16, nprobe: 10_000, seed: 3 });
    const live = new Map<string, VectorPoint>();
    const rnd = mulberry32(11);
    for (let round = 0; round < 6; round++) {
      const batch = randomPoints(150, dim, 100 + round).map((p) => ({
        ...p,
        id: `p${Math.floor(rnd() * 400)}`,
      }));
      index.upsertSync(batch);
      for (const p of batch) live.set(p.id, p);
      const gone = [...live.keys()].filter(() => rnd() < 0.2);
      index.deleteSync(gone);
      for (const id of gone) live.delete(id);
    }
    const stats = index.stats();
    expect(stats.exact).toBe(false);
    expect(stats.lists).toBeGreaterThan(4);
    expect(stats.largestList).toBeLessThanOrEqual(16);
    expect(stats.size).toBe(live.size);
    for (const q of randomPoints(20, dim, 999)) {
      const got = index.searchSync(q.vector, 10);
      expect(got.map((h) => h.id)).toEqual(bruteForce([...live.values()], q.vector, 10).map((h) => h.id));
      expect(got).toEqual(index.exactSearch(q.vector, 10));
    }
  });

  it('upsert is idempotent, and the same id replaces vector and payload', async () => {
    const index = createMemoryVectorIndex({ dim: 4 });
    const a: VectorPoint = { id: 's1', vector: [1, 0, 0, 0], payload: payload('s1') };
    await index.upsert([a, { id: 's2', vector: [0, 1, 0, 0], payload: payload('s2') }]);
    const before = await index.search([1, 0.1, 0, 0], 2);
    await index.upsert([a]);
    await index.upsert([a]);
    expect(await index.size()).toBe(2);
    expect(await index.search([1, 0.1, 0, 0], 2)).toEqual(before);

    const moved = { id: 's1', vector: [0, 0, 1, 0], payload: payload('s1', 'en', 'thesis:weak') };
    await index.upsert([moved]);
    expect(await index.size()).toBe(2);
    const [hit] = await index.search([0, 0, 1, 0], 1);
    expect(hit).toMatchObject({ id: 's1', score: 1, payload: { option_key: 'thesis:weak' } });
    const near = await index.search([1, 0, 0, 0], 2);
    expect(near.find((h) => h.id === 's1')!.score).toBeCloseTo(0, 6);
  });

  it('deletes by id; an unknown id is a no-op', async () => {
    const index = createMemoryVectorIndex({ dim: 8 });
    await index.upsert(randomPoints(10, 8, 1));
    await index.delete(['p3', 'nope', 'p3']);
    expect(await index.size()).toBe(9);
    const hits = await index.search(randomPoints(1, 8, 2)[0]!.vector, 20);
    expect(hits.map((h) => h.id)).not.toContain('p3');
    expect(hits).toHaveLength(9);
  });

  it('filters by language, including a language it has never seen', async () => {
    const index = createMemoryVectorIndex({ dim: 8 });
    await index.upsert(randomPoints(60, 8, 5, ['en', 'ko', 'ko']));
    const q = randomPoints(1, 8, 6)[0]!.vector;
    const en = await index.search(q, 50, { language: 'en' });
    expect(en).toHaveLength(20);
    expect(en.every((h) => h.payload.language === 'en')).toBe(true);
    expect(await index.search(q, 5, { language: 'fr' })).toEqual([]);
    expect(await index.search(q, 0)).toEqual([]);
  });

  it('rejects a wrong dimension or a NaN, without applying half a batch', async () => {
    const index = createMemoryVectorIndex({ dim: 3 });
    const good = { id: 'a', vector: [1, 2, 3], payload: payload('a') };
    const bad = { id: 'b', vector: [1, Number.NaN, 3], payload: payload('b') };
    await expect(index.upsert([good, bad])).rejects.toMatchObject({ code: 'vector_not_finite' });
    expect(await index.size()).toBe(0);
    await expect(index.search([1, 2], 1)).rejects.toBeInstanceOf(VectorIndexError);
    await expect(index.search([1, 2], 1)).rejects.toMatchObject({ code: 'vector_dimension_mismatch' });
    expect(() => createMemoryVectorIndex({ dim: 0 })).toThrow(VectorIndexError);
  });

  it('reaches recall@10 >= 0.95 against exact search on 20k clustered vectors', () => {
    const dim = 384;
    const { data } = clusteredUnitVectors({ n: 20_000, dim, seed: 21 });
    const queries = clusteredUnitVectors({ n: 50, dim, seed: 21, pointSeed: 22 }).data;
    const index = createMemoryVectorIndex({ dim });
    index.upsertSync(pointsFrom(data, dim, () => 'en'));
    expect(index.stats().exact).toBe(false);
    let found = 0;
    for (let i = 0; i < 50; i++) {
      const q = queries.subarray(i * dim, i * dim + dim);
      const truth = new Set(index.exactSearch(q, 10).map((h) => h.id));
      for (const h of index.searchSync(q, 10)) if (truth.has(h.id)) found++;
    }
    expect(found / 500).toBeGreaterThanOrEqual(0.95);
  });

  it('with a rare language, probes further and still finds the filtered nearest neighbours', () => {
    const dim = 64;
    const { data } = clusteredUnitVectors({ n: 8_000, dim, seed: 4, topics: 16, subtopics: 8 });
    const queries = clusteredUnitVectors({
      n: 50,
      dim,
      seed: 4,
      pointSeed: 5,
      topics: 16,
      subtopics: 8,
    }).data;
    const index = createMemoryVectorIndex({ dim, nprobe: 4 });
    index.upsertSync(pointsFrom(data, dim, (i) => (i % 50 === 0 ? 'ko' : 'en')));
    let found = 0;
    for (let i = 0; i < 50; i++) {
      const q = queries.subarray(i * dim, i * dim + dim);
      const got = index.searchSync(q, 10, { language: 'ko' });
      expect(got).toHaveLength(10);
      expect(got.every((h) => h.payload.language === 'ko')).toBe(true);
      const truth = new Set(index.exactSearch(q, 10, { language: 'ko' }).map((h) => h.id));
      for (const h of got) if (truth.has(h.id)) found++;
    }
    expect(found / 500).toBeGreaterThanOrEqual(0.9);
  });

  it('where the language follows the topic (lists of one language), a filtered search keeps its recall', () => {
    const dim = 128;
    const opts = { dim, seed: 31, topics: 32, subtopics: 8 };
    const { data, labels } = clusteredUnitVectors({ n: 20_000, ...opts });
    const queries = clusteredUnitVectors({ n: 50, ...opts, pointSeed: 32 });
    const langOf = (label: number) => (Math.floor(label / 8) % 2 === 0 ? 'ko' : 'en');
    const index = createMemoryVectorIndex({ dim });
    index.upsertSync(pointsFrom(data, dim, (i) => langOf(labels[i]!)));
    expect(index.stats().exact).toBe(false);
    let found = 0;
    for (let i = 0; i < 50; i++) {
      const q = queries.data.subarray(i * dim, i * dim + dim);
      const language = langOf(queries.labels[i]!);
      const got = index.searchSync(q, 10, { language });
      expect(got.every((h) => h.payload.language === language)).toBe(true);
      const truth = new Set(index.exactSearch(q, 10, { language }).map((h) => h.id));
      for (const h of got) if (truth.has(h.id)) found++;
    }
    expect(found / 500).toBeGreaterThanOrEqual(0.95);
  });

  it('builds the same index from the same upserts (seeded)', () => {
    const dim = 32;
    const { data } = clusteredUnitVectors({ n: 6_000, dim, seed: 9, topics: 8, subtopics: 4 });
    const points = pointsFrom(data, dim, () => 'en');
    const a = createMemoryVectorIndex({ dim, maxListSize: 256, seed: 5 });
    const b = createMemoryVectorIndex({ dim, maxListSize: 256, seed: 5 });
    a.upsertSync(points);
    b.upsertSync(points);
    expect(a.stats()).toEqual(b.stats());
    const q = points[17]!.vector;
    expect(a.searchSync(q, 10)).toEqual(b.searchSync(q, 10));
  });
});
