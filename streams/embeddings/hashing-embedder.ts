import type { Embedder } from './embedder.ts';

export const OFFLINE_EMBEDDER_MODEL = 'offline-hash-ngram-v1';

/**
 * Deterministic offline text embedding: word unigrams plus character 2- and 3-grams (which carry
 * Korean, where a syllable block is already meaningful, as well as English), each hashed with
 * FNV-1a to a signed bucket, then L2-normalised. No model, no network; similar wording gives
 * similar vectors, which is what the vector index and the profile need to work offline.
 */
export function hashEmbed(text: string, dim = 384): Float32Array {
  const v = new Float32Array(dim);
  const norm = text.normalize('NFC').toLowerCase();
  const words = norm.split(/[^\p{L}\p{N}]+/u);
  // Where each code point starts in ` ${word} ` (UTF-16 indices), reused across words.
  let starts = new Int32Array(64);
  for (const w of words) {
    if (w.length === 0) continue;
    // The word as the token `w:${w}`: FNV-1a over the prefix's units, then the word's.
    add(v, fnv(w, 0, w.length, FNV_W_PREFIX), 1.0);
    // Its character 2- and 3-grams over ` ${w} `, by code point (a surrogate pair is one
    // character), hashed over their UTF-16 units without building the n-gram strings.
    if (starts.length < w.length + 3) starts = new Int32Array(2 * (w.length + 3));
    let n = 0;
    starts[n++] = 0; // the leading space
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      starts[n++] = i + 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < w.length) {
        const d = w.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
    }
    starts[n++] = w.length + 1; // the trailing space
    starts[n] = w.length + 2; // the end
    for (let g = 2; g <= 3; g++) {
      for (let i = 0; i + g <= n; i++) add(v, paddedFnv(w, starts[i]!, starts[i + g]!), 0.5);
    }
  }
  let s = 0;
  for (let i = 0; i < dim; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < dim; i++) v[i]! *= inv;
  }
  return v;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of `s`'s UTF-16 units [from, to), continuing from state `h`. */
function fnv(s: string, from: number, to: number, h: number): number {
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

const FNV_W_PREFIX = fnv('w:', 0, 2, FNV_OFFSET);

/** FNV-1a of the units [from, to) of ` ${w} ` (index 0 and w.length + 1 are the spaces). */
function paddedFnv(w: string, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) {
    h ^= i === 0 || i === w.length + 1 ? 32 : w.charCodeAt(i - 1);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** Adds `weight` to the token's signed bucket: the hash picks the bucket and, by its low bit, the sign. */
function add(v: Float32Array, h: number, weight: number): void {
  const idx = (h >>> 1) % v.length;
  v[idx]! += h & 1 ? weight : -weight;
}

/** The offline embedder behind the Embedder port. */
export function createHashingEmbedder(dim = 384): Embedder {
  return {
    model: OFFLINE_EMBEDDER_MODEL,
    dim,
    offline: true,
    embed: async (texts) => texts.map((t) => hashEmbed(t, dim)),
  };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
