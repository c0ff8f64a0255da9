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
  const words = norm.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
  for (const w of words) {
    add(v, `w:${w}`, 1.0);
    const padded = ` ${w} `;
    const chars = [...padded];
    for (let n = 2; n <= 3; n++) {
      for (let i = 0; i + n <= chars.length; i++) add(v, chars.slice(i, i + n).join(''), 0.5);
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

function add(v: Float32Array, token: string, weight: number): void {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
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
