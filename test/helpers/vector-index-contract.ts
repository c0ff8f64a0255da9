import { afterEach, describe, expect, it } from 'vitest';
import type { ContextPayload, VectorIndex, VectorPoint } from '../../api/vector/vector-index.ts';
import { VectorIndexError } from '../../api/vector/vector-index.ts';
import { mulberry32 } from '../../common/random.ts';
import { clusteredUnitVectors } from '../fixtures/synthetic-vectors.ts';

export interface VectorIndexUnderTest {
  readonly index: VectorIndex;
  /** Runs after the recall set is loaded (Qdrant: the scheduled optimisation, building HNSW). */
  readonly settle?: () => Promise<void>;
  readonly cleanup?: () => Promise<void>;
}

export interface VectorIndexContractOptions {
  /** Vectors of the recall check (default 3,000). */
  readonly recallN?: number;
  /** Recall@10 against exact search that every adapter must reach (default 0.95). */
  readonly recallTarget?: number;
}

export const payloadOf = (i: number, language = i % 5 === 0 ? 'ko' : 'en'): ContextPayload => ({
  option_key: i % 7 === 0 ? null : `email:${i % 2 ? 'strong' : 'weak'}`,
  category: i % 7 === 0 ? null : 'email',
  intensity: i % 7 === 0 ? null : i % 2 ? 'strong' : 'weak',
  style_request: i % 7 === 0 ? '정중하게' : null,
  language,
  user_id: i % 11 === 0 ? null : `u${i % 13}`,
  consistency: 'high',
  example_id: `h:rs-${i}:1`,
  ts: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
});

function rawVector(rnd: () => number, dim: number, scale = 3): Float32Array {
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) v[j] = (rnd() * 2 - 1) * scale;
  return v;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < a.length; j++) {
    d += a[j]! * b[j]!;
    na += a[j]! * a[j]!;
    nb += b[j]! * b[j]!;
  }
  return d / Math.sqrt(na * nb);
}

/**
 * One contract for every VectorIndex adapter (CONVENTIONS #5): the in-process index and Qdrant
 * must agree on ids, payloads, scores (cosine of the raw vectors), replacement, deletion, the
 * language filter, the size, and find the same neighbours as exact search within the recall
 * target. `make` gives a fresh, empty index of that dimension per test.
 */
export function vectorIndexContract(
  name: string,
  make: (dim: number) => Promise<VectorIndexUnderTest>,
  opts: VectorIndexContractOptions = {},
) {
  describe(`${name} vector index (port contract)`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
    const setup = async (dim: number) => {
      const s = await make(dim);
      cleanup = s.cleanup;
      return s;
    };

    it('returns session ids, payloads as stored and the cosine of the raw vectors, best first', async () => {
      const { index } = await setup(16);
      const rnd = mulberry32(1);
      const points: VectorPoint[] = Array.from({ length: 30 }, (_, i) => ({
        id: `rs-${i}`,
        vector: rawVector(rnd, 16),
        payload: payloadOf(i),
      }));
      await index.upsert(points);
      expect(await index.size()).toBe(30);
      const q = rawVector(rnd, 16, 0.1);
      const hits = await index.search(q, 30);
      expect(hits).toHaveLength(30);
      const byId = new Map(points.map((p) => [p.id, p]));
      for (let i = 0; i < hits.length; i++) {
        const h = hits[i]!;
        const p = byId.get(h.id)!;
        expect(p, `hit ${h.id} is a stored session id`).toBeDefined();
        expect(h.payload).toEqual(p.payload);
        expect(h.score).toBeCloseTo(cosine(q, p.vector), 4);
        if (i > 0) expect(h.score).toBeLessThanOrEqual(hits[i - 1]!.score + 1e-6);
      }
      // The nearest is the one exact cosine says.
      const best = points.reduce((a, b) => (cosine(q, a.vector) >= cosine(q, b.vector) ? a : b));
      expect(hits[0]!.id).toBe(best.id);
      expect(await index.search(q, 0)).toEqual([]);
      expect(await index.search(q, 5)).toHaveLength(5);
      expect(index.dim).toBe(16);
      expect(typeof index.backend).toBe('string');
    });

    it('replaces a point with the same id (vector and payload), idempotently', async () => {
      const { index } = await setup(8);
      const a = Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]);
      const b = Float32Array.from([0, 0, 0, 0, 0, 0, 0, 5]);
      await index.upsert([{ id: 'rs-1', vector: a, payload: payloadOf(1) }]);
      await index.upsert([{ id: 'rs-1', vector: b, payload: payloadOf(2, 'ko') }]);
      await index.upsert([{ id: 'rs-1', vector: b, payload: payloadOf(2, 'ko') }]); // a replay
      expect(await index.size()).toBe(1);
      const [hit] = await index.search(b, 3);
      expect(hit!.id).toBe('rs-1');
      expect(hit!.score).toBeCloseTo(1, 5);
      expect(hit!.payload).toEqual(payloadOf(2, 'ko'));
      expect(await index.search(a, 3, { language: 'en' })).toEqual([]);
      // Within one call, the last point of a session wins.
      await index.upsert([
        { id: 'rs-2', vector: a, payload: payloadOf(3) },
        { id: 'rs-2', vector: b, payload: payloadOf(4) },
      ]);
      expect(await index.size()).toBe(2);
      const top = await index.search(b, 2);
      expect(top.map((h) => h.id).sort()).toEqual(['rs-1', 'rs-2']);
      expect(top.find((h) => h.id === 'rs-2')!.payload).toEqual(payloadOf(4));
    });

    it('deletes by session id; unknown ids are a no-op', async () => {
      const { index } = await setup(8);
      const rnd = mulberry32(2);
      await index.upsert(
        Array.from({ length: 10 }, (_, i) => ({
          id: `rs-${i}`,
          vector: rawVector(rnd, 8),
          payload: payloadOf(i),
        })),
      );
      await index.delete(['rs-3', 'rs-4', 'nobody']);
      await index.delete([]);
      await index.delete(['rs-3']); // again
      expect(await index.size()).toBe(8);
      const ids = (await index.search(rawVector(rnd, 8), 10)).map((h) => h.id);
      expect(ids).toHaveLength(8);
      expect(ids).not.toContain('rs-3');
      expect(ids).not.toContain('rs-4');
    });

    it('deletes every point of a user by payload (erasure), others stay', async () => {
      const { index } = await setup(8);
      const rnd = mulberry32(5);
      await index.upsert(
        Array.from({ length: 30 }, (_, i) => ({
          id: `rs-${i}`,
          vector: rawVector(rnd, 8),
          payload: payloadOf(i),
        })),
      );
      const mine = Array.from({ length: 30 }, (_, i) => i).filter((i) => payloadOf(i).user_id === 'u3');
      expect(mine.length).toBeGreaterThan(1);
      expect(await index.deleteByUser!('u3')).toBe(mine.length);
      expect(await index.size()).toBe(30 - mine.length);
      const hits = await index.search(rawVector(rnd, 8), 30);
      expect(hits.some((h) => h.payload.user_id === 'u3')).toBe(false);
      expect(hits).toHaveLength(30 - mine.length);
      expect(await index.deleteByUser!('u3')).toBe(0);
    });

    it('filters by language and never returns more than k', async () => {
      const { index } = await setup(8);
      const rnd = mulberry32(3);
      await index.upsert(
        Array.from({ length: 40 }, (_, i) => ({
          id: `rs-${i}`,
          vector: rawVector(rnd, 8),
          payload: payloadOf(i),
        })),
      );
      const q = rawVector(rnd, 8);
      const ko = await index.search(q, 100, { language: 'ko' });
      expect(ko.map((h) => h.id).sort()).toEqual(
        Array.from({ length: 8 }, (_, i) => `rs-${i * 5}`).sort(), // every 5th is Korean
      );
      expect(ko.every((h) => h.payload.language === 'ko')).toBe(true);
      const en = await index.search(q, 5, { language: 'en' });
      expect(en).toHaveLength(5);
      expect(en.every((h) => h.payload.language === 'en')).toBe(true);
      expect(await index.search(q, 5, { language: 'ja' })).toEqual([]);
    });

    it('refuses a vector of the wrong dimension or with NaN, applying nothing of the call', async () => {
      const { index } = await setup(8);
      const ok = { id: 'rs-ok', vector: new Float32Array(8).fill(1), payload: payloadOf(1) };
      const wrong = { id: 'rs-bad', vector: new Float32Array(7).fill(1), payload: payloadOf(2) };
      const err = await index.upsert([ok, wrong]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VectorIndexError);
      expect((err as VectorIndexError).code).toBe('vector_dimension_mismatch');
      expect((err as VectorIndexError).retriable).toBe(false);
      const nan = { ...ok, vector: Float32Array.from([1, 1, 1, Number.NaN, 1, 1, 1, 1]) };
      await expect(index.upsert([nan])).rejects.toMatchObject({ code: 'vector_not_finite' });
      await expect(index.search(new Float32Array(9), 3)).rejects.toMatchObject({
        code: 'vector_dimension_mismatch',
      });
      expect(await index.size()).toBe(0);
    });

    it('finds the same neighbours as exact search on clustered vectors (recall@10)', async () => {
      const dim = 96;
      const n = opts.recallN ?? 3000;
      const target = opts.recallTarget ?? 0.95;
      const s = await setup(dim);
      const { data } = clusteredUnitVectors({ n, dim, seed: 11, topics: 24, subtopics: 8 });
      const queries = clusteredUnitVectors({
        n: 60,
        dim,
        seed: 11,
        pointSeed: 12,
        topics: 24,
        subtopics: 8,
      }).data;
      const lang = (i: number) => (i % 4 === 0 ? 'ko' : 'en');
      const points: VectorPoint[] = [];
      for (let i = 0; i < n; i++)
        points.push({
          id: `rs-${i}`,
          vector: data.subarray(i * dim, (i + 1) * dim),
          payload: payloadOf(i, lang(i)),
        });
      for (let i = 0; i < n; i += 1000) await s.index.upsert(points.slice(i, i + 1000));
      await s.settle?.();
      expect(await s.index.size()).toBe(n);
      const exact = (q: Float32Array, k: number, language?: string) => {
        const scored: [number, number][] = [];
        for (let i = 0; i < n; i++) {
          if (language && lang(i) !== language) continue;
          let d = 0;
          for (let j = 0; j < dim; j++) d += q[j]! * data[i * dim + j]!;
          scored.push([d, i]);
        }
        scored.sort((a, b) => b[0] - a[0]);
        return scored.slice(0, k);
      };
      let found = 0;
      let total = 0;
      for (let qi = 0; qi < 60; qi++) {
        const q = queries.subarray(qi * dim, (qi + 1) * dim);
        const language = qi % 3 === 0 ? 'ko' : undefined;
        const truth = exact(q, 10, language);
        const hits = await s.index.search(q, 10, language ? { language } : undefined);
        expect(hits).toHaveLength(10);
        const want = new Set(truth.map(([, i]) => `rs-${i}`));
        for (const h of hits) if (want.has(h.id)) found++;
        total += 10;
        // A hit's score is its exact cosine, whichever index found it.
        for (const h of hits) {
          const i = Number(h.id.slice(3));
          let d = 0;
          for (let j = 0; j < dim; j++) d += q[j]! * data[i * dim + j]!;
          expect(h.score).toBeCloseTo(d, 4);
          if (language) expect(h.payload.language).toBe(language);
        }
      }
      expect(found / total).toBeGreaterThanOrEqual(target);
    });
  });
}
