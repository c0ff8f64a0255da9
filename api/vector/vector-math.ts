/**
 * Dot product of `dim` floats of `a` from `ao` and `b` from `bo`. Four independent accumulators
 * roughly double V8's throughput over the naive loop (the adds no longer wait on each other), and
 * this loop is where the vector index spends nearly all of its time.
 *
 * @example
 * dot(matrix, row * dim, query, 0, dim);
 */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end = dim - (dim & 3);
  let j = 0;
  for (; j < end; j += 4) {
    s0 += a[ao + j]! * b[bo + j]!;
    s1 += a[ao + j + 1]! * b[bo + j + 1]!;
    s2 += a[ao + j + 2]! * b[bo + j + 2]!;
    s3 += a[ao + j + 3]! * b[bo + j + 3]!;
  }
  for (; j < dim; j++) s0 += a[ao + j]! * b[bo + j]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Writes `src` scaled to unit length into `out` at `oo` and returns the original norm (0 leaves
 * zeros: a zero vector is similar to nothing). Throws on NaN/Infinity, which would otherwise
 * poison every later comparison silently.
 *
 * @example
 * const norm = normaliseInto(embedding, scratch, 0, 384);
 */
export function normaliseInto(src: ArrayLike<number>, out: Float32Array, oo: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const x = src[j]!;
    s += x * x;
  }
  if (!Number.isFinite(s)) throw new RangeError('vector has a NaN or infinite component');
  const norm = Math.sqrt(s);
  const inv = norm > 0 ? 1 / norm : 0;
  for (let j = 0; j < dim; j++) out[oo + j] = src[j]! * inv;
  return norm;
}

/**
 * Bounded top-k by score: a min-heap on typed arrays, so a scan of thousands of candidates
 * allocates nothing. At the threshold the item already held wins a tie, so for a deterministic
 * scan order the result is deterministic too.
 *
 * @example
 * const top = new TopK(10);
 * top.offer(0.93, slot);
 * const [scores, items] = top.sorted();
 */
export class TopK {
  readonly k: number;
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private n = 0;

  constructor(k: number) {
    this.k = Math.max(0, Math.floor(k));
    this.scores = new Float64Array(this.k);
    this.items = new Int32Array(this.k);
  }

  get size(): number {
    return this.n;
  }

  /** The score an item must beat to enter (−∞ while not full). */
  get threshold(): number {
    return this.n < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  offer(score: number, item: number): void {
    if (this.k === 0) return;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (this.scores[p]! <= score) break;
        this.scores[i] = this.scores[p]!;
        this.items[i] = this.items[p]!;
        i = p;
      }
      this.scores[i] = score;
      this.items[i] = item;
      return;
    }
    if (score <= this.scores[0]!) return;
    let i = 0;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.scores[r]! < this.scores[l]! ? r : l;
      if (this.scores[c]! >= score) break;
      this.scores[i] = this.scores[c]!;
      this.items[i] = this.items[c]!;
      i = c;
    }
    this.scores[i] = score;
    this.items[i] = item;
  }

  /** Best first; equal scores ordered by item so the output never depends on heap layout. */
  sorted(): [number[], number[]] {
    const idx = Array.from({ length: this.n }, (_, i) => i);
    idx.sort((x, y) => this.scores[y]! - this.scores[x]! || this.items[x]! - this.items[y]!);
    return [idx.map((i) => this.scores[i]!), idx.map((i) => this.items[i]!)];
  }
}
