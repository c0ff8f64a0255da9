import { mulberry32 } from '../clustering/kmeans.ts';

export interface ClusteredVectorsOptions {
  readonly n: number;
  readonly dim: number;
  /** Top-level topics (default 64). */
  readonly topics?: number;
  /** Sub-topics per topic (default 16). */
  readonly subtopics?: number;
  /** Noise of a sub-topic around its topic, relative to the unit topic vector (default 0.9). */
  readonly subtopicSpread?: number;
  /** Noise of a point around its sub-topic (default 0.7). */
  readonly pointSpread?: number;
  readonly seed?: number;
  /**
   * Seed of the point draws, when it should differ from the seed of the topic structure: the same
   * `seed` with another `pointSeed` gives fresh points (queries) from the same topics.
   */
  readonly pointSeed?: number;
}

export interface ClusteredVectors {
  /** n × dim, row-major, unit rows. */
  readonly data: Float32Array;
  /** Sub-topic of each row (topic = Math.floor(label / subtopics)). */
  readonly labels: Int32Array;
}

/**
 * Unit vectors with a two-level topic structure, standing in for sentence embeddings in benchmarks
 * and tests: a point's nearest neighbours are mostly in its own sub-topic, the next ones in its
 * topic, the rest near-orthogonal — like text embeddings, and unlike uniform random vectors, on
 * which no index (and no real retrieval) works. With the defaults a point's nearest neighbour has
 * cosine ≈ 0.7 and a random pair ≈ 0.
 *
 * @example
 * const { data } = clusteredUnitVectors({ n: 100_000, dim: 384, seed: 7 });
 * const queries = clusteredUnitVectors({ n: 1_000, dim: 384, seed: 7, pointSeed: 8 });
 */
export function clusteredUnitVectors(o: ClusteredVectorsOptions): ClusteredVectors {
  const { n, dim } = o;
  const topics = o.topics ?? 64;
  const subs = o.subtopics ?? 16;
  const structure = gaussian(mulberry32(o.seed ?? 1));
  const topicVecs = new Float32Array(topics * dim);
  for (let t = 0; t < topics; t++) randomUnit(structure, topicVecs, t * dim, dim);
  const subVecs = new Float32Array(topics * subs * dim);
  const noise = new Float32Array(dim);
  const subSpread = o.subtopicSpread ?? 0.9;
  for (let s = 0; s < topics * subs; s++) {
    randomUnit(structure, noise, 0, dim);
    const to = Math.floor(s / subs) * dim;
    for (let j = 0; j < dim; j++) subVecs[s * dim + j] = topicVecs[to + j]! + subSpread * noise[j]!;
    normalise(subVecs, s * dim, dim);
  }
  const points = gaussian(mulberry32(o.pointSeed ?? (o.seed ?? 1) + 0x9e3779b9));
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  const spread = o.pointSpread ?? 0.7;
  for (let i = 0; i < n; i++) {
    const s = Math.floor(points.uniform() * topics * subs);
    labels[i] = s;
    randomUnit(points, noise, 0, dim);
    for (let j = 0; j < dim; j++) data[i * dim + j] = subVecs[s * dim + j]! + spread * noise[j]!;
    normalise(data, i * dim, dim);
  }
  return { data, labels };
}

function gaussian(rnd: () => number): { uniform: () => number; normal: () => number } {
  let spare: number | null = null;
  return {
    uniform: rnd,
    // Marsaglia's polar method: one log and one sqrt per pair, no trigonometry.
    normal: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      for (;;) {
        const u = 2 * rnd() - 1;
        const v = 2 * rnd() - 1;
        const s = u * u + v * v;
        if (s >= 1 || s === 0) continue;
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        spare = v * f;
        return u * f;
      }
    },
  };
}

function randomUnit(g: { normal: () => number }, out: Float32Array, o: number, dim: number): void {
  for (let j = 0; j < dim; j++) out[o + j] = g.normal();
  normalise(out, o, dim);
}

function normalise(v: Float32Array, o: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += v[o + j]! ** 2;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < dim; j++) v[o + j]! *= inv;
}
