import { mulberry32 } from '../../common/random.ts';

export interface KMeansInput {
  /** Row-major n × dim matrix. */
  readonly data: Float32Array;
  readonly n: number;
  readonly dim: number;
  readonly k: number;
  readonly seed?: number;
  /** Initial centroids (k × dim, e.g. from personas); otherwise k-means++ on a sample. */
  readonly initialCentroids?: Float32Array;
  /** Mini-batch size (default 1024) and number of mini-batch steps (default 100). */
  readonly batchSize?: number;
  readonly iterations?: number;
  /** Full Lloyd passes after the mini-batch phase (default 2). */
  readonly refinePasses?: number;
  /** Called between steps with progress in [0, 1]. */
  readonly onProgress?: (fraction: number) => void;
}

export interface KMeansResult {
  /** k × dim, row-major. */
  readonly centroids: Float32Array;
  /** Cluster index per input row. */
  readonly assignments: Int32Array;
  /** Members per cluster. */
  readonly sizes: Int32Array;
  /** Sum of squared distances to the assigned centroid. */
  readonly inertia: number;
  readonly k: number;
  readonly dim: number;
}

function sqDist(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[ai + j]! - b[bi + j]!;
    s += d * d;
  }
  return s;
}

function nearest(data: Float32Array, row: number, c: Float32Array, k: number, dim: number): [number, number] {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  const off = row * dim;
  for (let i = 0; i < k; i++) {
    const d = sqDist(data, off, c, i * dim, dim);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return [best, bestD];
}

/** k-means++ seeding on (a sample of) the rows. */
function kmeansPlusPlus(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
  rnd: () => number,
): Float32Array {
  const sampleN = Math.min(n, Math.max(10 * k, 5000));
  const rows = new Int32Array(sampleN);
  if (sampleN === n) for (let i = 0; i < n; i++) rows[i] = i;
  else for (let i = 0; i < sampleN; i++) rows[i] = Math.floor(rnd() * n);
  const c = new Float32Array(k * dim);
  const first = rows[Math.floor(rnd() * sampleN)]!;
  c.set(data.subarray(first * dim, first * dim + dim), 0);
  const d2 = new Float64Array(sampleN).fill(Number.POSITIVE_INFINITY);
  for (let ci = 1; ci < k; ci++) {
    let total = 0;
    for (let i = 0; i < sampleN; i++) {
      const d = sqDist(data, rows[i]! * dim, c, (ci - 1) * dim, dim);
      if (d < d2[i]!) d2[i] = d;
      total += d2[i]!;
    }
    let target = rnd() * total;
    let pick = rows[sampleN - 1]!;
    for (let i = 0; i < sampleN; i++) {
      target -= d2[i]!;
      if (target <= 0) {
        pick = rows[i]!;
        break;
      }
    }
    c.set(data.subarray(pick * dim, pick * dim + dim), ci * dim);
  }
  return c;
}

/**
 * Mini-batch K-means (Sculley 2010) with k-means++ seeding or supplied centroids, then a few full
 * Lloyd passes. Pure and deterministic for a seed; CPU-bound, so callers run it off the event loop
 * (a worker thread) when n is large.
 *
 * @example
 * const { assignments, centroids } = kmeans({ data, n: 1000, dim: 384, k: 8, seed: 7 });
 */
export function kmeans(input: KMeansInput): KMeansResult {
  const { data, n, dim } = input;
  if (n <= 0 || dim <= 0) throw new Error('kmeans: need at least one row and one dimension');
  if (data.length < n * dim) throw new Error(`kmeans: data has ${data.length} values, expected ${n * dim}`);
  const k = Math.min(input.k, n);
  if (!(k >= 1)) throw new Error('kmeans: k must be >= 1');
  const rnd = mulberry32(input.seed ?? 1);
  let c: Float32Array;
  if (input.initialCentroids) {
    if (input.initialCentroids.length < k * dim) throw new Error('kmeans: initialCentroids must be k × dim');
    c = Float32Array.from(input.initialCentroids.subarray(0, k * dim));
  } else {
    c = kmeansPlusPlus(data, n, dim, k, rnd);
  }

  const batch = Math.min(input.batchSize ?? 1024, n);
  const iters = input.iterations ?? 100;
  const refine = input.refinePasses ?? 2;
  const counts = new Float64Array(k);
  const totalSteps = iters + refine + 1;
  const picks = new Int32Array(batch);
  const picked = new Int32Array(batch);
  for (let it = 0; it < iters; it++) {
    for (let b = 0; b < batch; b++) {
      picks[b] = batch === n ? b : Math.floor(rnd() * n);
      picked[b] = nearest(data, picks[b]!, c, k, dim)[0];
    }
    for (let b = 0; b < batch; b++) {
      const ci = picked[b]!;
      counts[ci]! += 1;
      const eta = 1 / counts[ci]!;
      const co = ci * dim;
      const xo = picks[b]! * dim;
      for (let j = 0; j < dim; j++) c[co + j]! += eta * (data[xo + j]! - c[co + j]!);
    }
    input.onProgress?.((it + 1) / totalSteps);
  }

  const assignments = new Int32Array(n);
  const sizes = new Int32Array(k);
  let inertia = 0;
  for (let pass = 0; pass <= refine; pass++) {
    inertia = 0;
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const [best, d] = nearest(data, i, c, k, dim);
      assignments[i] = best;
      sizes[best]! += 1;
      inertia += d;
    }
    if (pass === refine) break;
    // Lloyd update; an empty cluster keeps its centroid.
    const sums = new Float64Array(k * dim);
    for (let i = 0; i < n; i++) {
      const co = assignments[i]! * dim;
      const xo = i * dim;
      for (let j = 0; j < dim; j++) sums[co + j]! += data[xo + j]!;
    }
    for (let ci = 0; ci < k; ci++) {
      if (sizes[ci] === 0) continue;
      for (let j = 0; j < dim; j++) c[ci * dim + j] = sums[ci * dim + j]! / sizes[ci]!;
    }
    input.onProgress?.((iters + pass + 1) / totalSteps);
  }
  input.onProgress?.(1);
  return { centroids: c, assignments, sizes, inertia, k, dim };
}

/** Packs vectors into the row-major matrix `kmeans` takes. */
export function toMatrix(rows: readonly ArrayLike<number>[], dim: number): Float32Array {
  const m = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) m[i * dim + j] = r[j] ?? 0;
  });
  return m;
}

/** Adjusted Rand index between two labelings of the same items (1 = identical partitions). */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('adjustedRandIndex: labelings differ in length');
  const n = a.length;
  const table = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]}|${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    ra.set(a[i]!, (ra.get(a[i]!) ?? 0) + 1);
    rb.set(b[i]!, (rb.get(b[i]!) ?? 0) + 1);
  }
  const c2 = (x: number) => (x * (x - 1)) / 2;
  let sumIj = 0;
  for (const v of table.values()) sumIj += c2(v);
  let sumA = 0;
  for (const v of ra.values()) sumA += c2(v);
  let sumB = 0;
  for (const v of rb.values()) sumB += c2(v);
  const expected = (sumA * sumB) / c2(n);
  const max = (sumA + sumB) / 2;
  return max === expected ? 1 : (sumIj - expected) / (max - expected);
}
