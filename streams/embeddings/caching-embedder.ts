import type { Embedder, LabelledVectors } from './embedder.ts';

export interface CachingEmbedderOptions {
  /** Texts kept (least recently used out first; default 4096 ≈ 6 MB at 384 dims). */
  readonly maxEntries?: number;
}

/**
 * A small LRU in front of an embedder. The profile sink and the index sink embed the contexts of
 * the same H records a moment apart; sharing one cached embedder between them halves the calls to
 * a model. Only real vectors are kept: what an adapter's fallback made is never cached, so the
 * model's vectors come back once it answers again. Concurrent asks for the same text share a call.
 *
 * @example
 * const embedder = createCachingEmbedder(createOpenAiEmbedder({ … }), { maxEntries: 4096 });
 */
export function createCachingEmbedder(
  inner: Embedder,
  o: CachingEmbedderOptions = {},
): Embedder & { readonly stats: { hits: number; misses: number } } {
  const max = Math.max(1, o.maxEntries ?? 4096);
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU.
  const cache = new Map<string, Float32Array>();
  const inflight = new Map<string, Promise<Float32Array>>();
  const stats = { hits: 0, misses: 0 };

  const remember = (t: string, v: Float32Array) => {
    cache.delete(t);
    cache.set(t, v);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
  };

  async function call(texts: string[]): Promise<LabelledVectors> {
    if (inner.embedLabelled) return inner.embedLabelled(texts);
    const vectors = await inner.embed(texts);
    return { vectors, model: inner.model, offline: inner.offline, fallback: false };
  }

  async function embedLabelled(texts: readonly string[]): Promise<LabelledVectors> {
    const out: (Float32Array | Promise<Float32Array>)[] = new Array(texts.length);
    const missing: string[] = [];
    const asked = new Set<string>();
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i]!;
      const hit = cache.get(t);
      if (hit) {
        stats.hits++;
        remember(t, hit);
        out[i] = hit;
        continue;
      }
      const pending = inflight.get(t);
      if (pending) {
        stats.hits++;
        out[i] = pending;
        continue;
      }
      if (asked.has(t)) {
        stats.hits++;
        continue;
      }
      stats.misses++;
      asked.add(t);
      missing.push(t);
    }
    let label: LabelledVectors = { vectors: [], model: inner.model, offline: inner.offline, fallback: false };
    if (missing.length > 0) {
      const run = call(missing);
      missing.forEach((t, j) => {
        const p = run.then((r) => r.vectors[j]!);
        inflight.set(t, p);
        // The caller sees the rejection through `run`; this copy must not be an unhandled one.
        p.catch(() => {});
      });
      try {
        label = await run;
      } finally {
        for (const t of missing) inflight.delete(t);
      }
      const byText = new Map(missing.map((t, j) => [t, label.vectors[j]!]));
      if (!label.fallback) for (const [t, v] of byText) remember(t, v);
      for (let i = 0; i < texts.length; i++) if (out[i] === undefined) out[i] = byText.get(texts[i]!)!;
    }
    return { ...label, vectors: await Promise.all(out) };
  }

  return {
    get model() {
      return inner.model;
    },
    dim: inner.dim,
    get offline() {
      return inner.offline;
    },
    stats,
    embedLabelled,
    embed: async (texts) => (await embedLabelled(texts)).vectors,
  };
}
