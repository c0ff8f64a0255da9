import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';
import { allOptions, type OptionVocabulary, optionKey } from '../../schemas/index.ts';
import { type KMeansResult, kmeans } from './kmeans.ts';

export interface UserVectorOptions {
  readonly vocabulary: OptionVocabulary;
  /** Dimension of the context embeddings in the profiles. */
  readonly embeddingDim: number;
  /** Weight of the option-choice part against the context part (both unit length before). */
  readonly optionWeight?: number;
}

/**
 * The vector a user is clustered on: their mean context embedding (what they write) next to their
 * option-choice shares (how they like it rewritten), each scaled to unit length and weighted. Taste
 * dominates by default because clusters serve cold-start ranking of options.
 */
export function userVector(p: UserProfile, o: UserVectorOptions): Float32Array {
  const opts = allOptions(o.vocabulary);
  const w = o.optionWeight ?? 2;
  const v = new Float32Array(o.embeddingDim + opts.length);
  const e = p.embedding?.vector;
  if (e) {
    let s = 0;
    for (let i = 0; i < o.embeddingDim; i++) s += (e[i] ?? 0) ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < o.embeddingDim; i++) v[i] = (e[i] ?? 0) * inv;
  }
  let s = 0;
  const counts = opts.map((opt) => p.options[optionKey(opt)]?.selected ?? 0);
  for (const c of counts) s += c * c;
  const inv = s > 0 ? w / Math.sqrt(s) : 0;
  counts.forEach((c, i) => {
    v[o.embeddingDim + i] = c * inv;
  });
  return v;
}

export interface ReclusterInput extends UserVectorOptions {
  readonly profiles: readonly UserProfile[];
  readonly k: number;
  readonly seed: number;
  /** Event time the clustering is stamped with (from the caller, not the clock). */
  readonly ts: string;
  readonly version: number;
  readonly initialCentroids?: Float32Array;
}

export interface ReclusterResult {
  readonly clusters: ClusterProfile[];
  /** user_id → cluster_id */
  readonly assignments: Map<string, number>;
  readonly kmeans: KMeansResult | null;
}

/** Packs the users' vectors into the row-major matrix k-means takes (only users with history). */
export function userMatrix(
  profiles: readonly UserProfile[],
  o: UserVectorOptions,
): { users: UserProfile[]; data: Float32Array; dim: number } {
  const users = profiles.filter((p) => p.sessions > 0);
  const dim = o.embeddingDim + allOptions(o.vocabulary).length;
  const data = new Float32Array(users.length * dim);
  users.forEach((p, i) => {
    data.set(userVector(p, o), i * dim);
  });
  return { users, data, dim };
}

/** J from a k-means result: size, centroid and option distribution of each cluster. */
export function clusterProfilesFrom(
  users: readonly UserProfile[],
  res: Pick<KMeansResult, 'k' | 'dim' | 'centroids' | 'assignments' | 'sizes'>,
  stamp: { ts: string; version: number },
): ReclusterResult {
  const assignments = new Map<string, number>();
  const dists: Record<string, number>[] = Array.from({ length: res.k }, () => ({}));
  users.forEach((p, i) => {
    const ci = res.assignments[i]!;
    assignments.set(p.user_id, ci);
    const d = dists[ci]!;
    for (const [key, s] of Object.entries(p.options)) d[key] = (d[key] ?? 0) + s.selected;
  });
  const clusters: ClusterProfile[] = dists.map((d, ci) => {
    const total = Object.values(d).reduce((a, b) => a + b, 0);
    const dist: Record<string, number> = {};
    let top: string | null = null;
    for (const key of Object.keys(d).sort()) {
      dist[key] = total > 0 ? d[key]! / total : 0;
      if (top === null || dist[key]! > dist[top]!) top = key;
    }
    return {
      cluster_id: ci,
      version: stamp.version,
      ts: stamp.ts,
      size: res.sizes[ci]!,
      centroid: Array.from(res.centroids.subarray(ci * res.dim, ci * res.dim + res.dim)),
      option_distribution: dist,
      top_option: top,
    };
  });
  return { clusters, assignments, kmeans: null };
}

/** Clusters users and derives J, all in the calling thread (small populations, tests). */
export function recluster(input: ReclusterInput): ReclusterResult {
  const { users, data, dim } = userMatrix(input.profiles, input);
  if (users.length === 0) return { clusters: [], assignments: new Map(), kmeans: null };
  const res = kmeans({
    data,
    n: users.length,
    dim,
    k: Math.min(input.k, users.length),
    seed: input.seed,
    initialCentroids: input.initialCentroids,
  });
  return { ...clusterProfilesFrom(users, res, input), kmeans: res };
}
