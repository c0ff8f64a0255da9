import type { ClusterProfile } from '../../schemas/index.ts';
import { allOptions, type OptionVocabulary, optionKey } from '../../schemas/index.ts';

/** What seeding needs of a persona (the personas file's fields; structural, so streams/ needs no simulator import). */
export interface SeedPersona {
  readonly name: string;
  readonly preferred_category: string;
  readonly preferred_intensity: string;
  readonly option_distribution?: Readonly<Record<string, number>>;
  readonly domains?: Readonly<Record<string, number>>;
  readonly preferred_by_domain?: Readonly<Record<string, string>>;
}

/**
 * A persona's option shares over the vocabulary: with `domains`, each field's share on the
 * persona's option there (`preferred_by_domain`, else its preferred option); otherwise its
 * `option_distribution`, else all on its preferred option. Sums to 1 (zeros outside the vocabulary).
 *
 * @example
 * personaOptionShares(scholar, keys); // thesis:strong 0.6, email:strong 0.4
 */
export function personaOptionShares(p: SeedPersona, keys: readonly string[]): Float64Array {
  const index = new Map(keys.map((k, i) => [k, i]));
  const out = new Float64Array(keys.length);
  const fallback = `${p.preferred_category}:${p.preferred_intensity}`;
  const add = (key: string, w: number) => {
    const i = index.get(key);
    if (i !== undefined && w > 0 && Number.isFinite(w)) out[i]! += w;
  };
  const fields = Object.entries(p.domains ?? {}).filter(([, w]) => w > 0);
  if (fields.length > 0) for (const [f, w] of fields) add(p.preferred_by_domain?.[f] ?? fallback, w);
  else if (p.option_distribution && Object.keys(p.option_distribution).length > 0)
    for (const [k, w] of Object.entries(p.option_distribution)) add(k, w);
  else add(fallback, 1);
  const total = out.reduce((a, b) => a + b, 0);
  if (total > 0) for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}

export interface PersonaSeedInput {
  readonly personas: readonly SeedPersona[];
  /** Per persona, the mean embedding of what it writes (null: unknown, the context part stays 0). */
  readonly meanContexts: readonly (ArrayLike<number> | null)[];
  readonly vocabulary: OptionVocabulary;
  readonly embeddingDim: number;
  /** As in `userVector` (default 2). */
  readonly optionWeight?: number;
  /** Stamp of the seeded J. */
  readonly ts: string;
  readonly version?: number;
  /** Size each seeded cluster claims: its mass against the smoothing prior (default 5 users). */
  readonly size?: number;
}

/**
 * Clusters seeded from personas, in the space users are clustered in (`userVector`: unit mean
 * context, then the option shares scaled to `optionWeight`): `centroids` seed K-means
 * (`initialCentroids`) so clusters start where the personas are; `clusters` is a J to serve
 * before any user has history, so even the very first session gets the prior of the persona whose
 * texts are nearest to its sentence (`pickCluster`). Pure.
 *
 * @example
 * const { clusters } = personaSeeds({ personas, meanContexts, vocabulary, embeddingDim: 384, ts });
 * await clusterStore.replace(clusters, new Map());
 */
export function personaSeeds(o: PersonaSeedInput): { centroids: Float32Array; clusters: ClusterProfile[] } {
  const keys = allOptions(o.vocabulary).map(optionKey);
  const dim = o.embeddingDim + keys.length;
  const w = o.optionWeight ?? 2;
  const centroids = new Float32Array(o.personas.length * dim);
  const clusters = o.personas.map((p, ci) => {
    const off = ci * dim;
    const e = o.meanContexts[ci];
    if (e) {
      let s = 0;
      for (let j = 0; j < o.embeddingDim; j++) s += (e[j] ?? 0) ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < o.embeddingDim; j++) centroids[off + j] = (e[j] ?? 0) * inv;
    }
    const shares = personaOptionShares(p, keys);
    let s = 0;
    for (const x of shares) s += x * x;
    const inv = s > 0 ? w / Math.sqrt(s) : 0;
    shares.forEach((x, j) => {
      centroids[off + o.embeddingDim + j] = x * inv;
    });
    const dist: Record<string, number> = {};
    let top: string | null = null;
    keys.forEach((k, j) => {
      if (!(shares[j]! > 0)) return;
      dist[k] = shares[j]!;
      if (top === null || shares[j]! > dist[top]!) top = k;
    });
    const profile: ClusterProfile = {
      cluster_id: ci,
      version: o.version ?? 0,
      ts: o.ts,
      size: o.size ?? 5,
      centroid: Array.from(centroids.subarray(off, off + dim)),
      option_distribution: dist,
      top_option: top,
    };
    return profile;
  });
  return { centroids, clusters };
}
