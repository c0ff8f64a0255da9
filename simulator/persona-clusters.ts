import { DEFAULT_VOCABULARY, type OptionVocabulary } from '../schemas/index.ts';
import { personaSeeds } from '../streams/clustering/persona-seeds.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import type { ClusterStore } from '../streams/stores/profile-store.ts';
import type { Persona } from './personas/schema.ts';
import type { ContextSample } from './pools/contexts.ts';

/**
 * Up to `perPersona` sentences a persona writes: spread over its `domains` by share (each field's
 * part of the pool, in its languages where the pool has them), or over the whole pool in its
 * languages without domains. Deterministic: every `step`-th sentence, no randomness.
 */
export function personaTexts(p: Persona, contexts: readonly ContextSample[], perPersona = 40): string[] {
  const langs = new Set(Object.keys(p.languages ?? {}).filter((l) => (p.languages?.[l] ?? 0) > 0));
  const inLang = (cs: readonly ContextSample[]) => {
    const own = cs.filter((c) => langs.size === 0 || langs.has(c.language));
    return own.length > 0 ? own : cs;
  };
  const take = (cs: readonly ContextSample[], n: number) => {
    if (cs.length === 0 || n <= 0) return [];
    const step = Math.max(1, Math.floor(cs.length / n));
    const out: string[] = [];
    for (let i = 0; i < cs.length && out.length < n; i += step) out.push(cs[i]!.text);
    return out;
  };
  const fields = Object.entries(p.domains ?? {}).filter(([, w]) => w > 0);
  if (fields.length === 0) return take(inLang(contexts), perPersona);
  const total = fields.reduce((s, [, w]) => s + w, 0);
  return fields.flatMap(([f, w]) => {
    const part = contexts.filter((c) => c.category === f);
    return take(inLang(part.length > 0 ? part : contexts), Math.max(1, Math.round((perPersona * w) / total)));
  });
}

/**
 * Seeds J with one cluster per persona before any traffic (see `personaSeeds`): its centroid's
 * context part is the mean embedding of sentences the persona writes, its option distribution the
 * persona's options. The first re-clustering replaces it with clusters of real users.
 *
 * @example
 * await seedPersonaClusters(wheel.clusters, wheel.embedder, personas, loadContextPool(), wheel.now());
 */
export async function seedPersonaClusters(
  store: ClusterStore,
  embedder: Embedder,
  personas: readonly Persona[],
  contexts: readonly ContextSample[],
  at: number,
  vocabulary: OptionVocabulary = DEFAULT_VOCABULARY,
): Promise<number> {
  const meanContexts: Float32Array[] = [];
  for (const p of personas) {
    const texts = personaTexts(p, contexts);
    const vs = texts.length > 0 ? await embedder.embed(texts) : [];
    const mean = new Float32Array(embedder.dim);
    for (const v of vs) for (let j = 0; j < mean.length; j++) mean[j]! += v[j]! / vs.length;
    meanContexts.push(mean);
  }
  const { clusters } = personaSeeds({
    personas,
    meanContexts,
    vocabulary,
    embeddingDim: embedder.dim,
    ts: new Date(at).toISOString(),
  });
  await store.replace(clusters, new Map());
  return clusters.length;
}
