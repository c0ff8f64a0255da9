import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';
import { DEFAULT_SCORING_CONFIG, type ScoringConfig } from './config.ts';

/**
 * A cluster as the scorer reads it: a profile of J, or — for a user without a cluster — the
 * similarity-weighted mixture of J's clusters that `pickCluster` builds, with the assignment's
 * `confidence` in [0, 1] (absent means 1: an assigned user's own cluster). The scorer gives
 * P_cluster β·(1 − w)·confidence; the rest of the cluster's weight goes to no option.
 */
export type ScoringCluster = ClusterProfile & { readonly confidence?: number };

/** One cluster's part in a soft assignment. */
export interface ClusterWeight {
  readonly cluster: ClusterProfile;
  /** Cosine of the context to the centroid's context part. */
  readonly similarity: number;
  /** softmax(similarity / T) over the comparable clusters. */
  readonly weight: number;
}

export interface SoftAssignment {
  /** Comparable clusters (centroid at least as long as the embedding, non-zero), in input order. */
  readonly weights: readonly ClusterWeight[];
  /**
   * 1 − H(weights) / log K: 1 when one cluster takes all the weight, 0 when the sentence is as
   * close to every cluster (K = the comparable clusters; 1 when K = 1).
   */
  readonly confidence: number;
}

/**
 * Soft assignment of a context to clusters: softmax over cos(context, centroid's context part)/T.
 * The context part of a centroid is its first `embedding.length` values (see `userVector` in
 * streams/clustering). Empty weights when nothing is comparable. Pure.
 *
 * @example
 * const { weights, confidence } = softAssign(clusters, embedding, 0.02);
 */
export function softAssign(
  clusters: readonly ClusterProfile[],
  embedding: ArrayLike<number>,
  temperature: number,
): SoftAssignment {
  const d = embedding.length;
  let ne = 0;
  for (let j = 0; j < d; j++) ne += embedding[j]! * embedding[j]!;
  const sims: { cluster: ClusterProfile; similarity: number }[] = [];
  if (d > 0 && ne > 0 && Number.isFinite(ne)) {
    for (const c of clusters) {
      if (c.centroid.length < d) continue;
      let dot = 0;
      let nc = 0;
      for (let j = 0; j < d; j++) {
        dot += embedding[j]! * c.centroid[j]!;
        nc += c.centroid[j]! * c.centroid[j]!;
      }
      const s = dot / Math.sqrt(nc * ne);
      if (nc > 0 && Number.isFinite(s)) sims.push({ cluster: c, similarity: s });
    }
  }
  if (sims.length === 0) return { weights: [], confidence: 0 };
  const best = Math.max(...sims.map((s) => s.similarity));
  // Shifting by the best similarity keeps exp() in range; it cancels in the normalisation.
  const raw = sims.map((s) => Math.exp((s.similarity - best) / temperature));
  const z = raw.reduce((a, b) => a + b, 0);
  const weights = sims.map((s, i) => ({ ...s, weight: raw[i]! / z }));
  if (weights.length === 1) return { weights, confidence: 1 };
  let h = 0;
  for (const w of weights) if (w.weight > 0) h -= w.weight * Math.log(w.weight);
  const confidence = Math.min(1, Math.max(0, 1 - h / Math.log(weights.length)));
  return { weights, confidence };
}

/**
 * The cluster to score a user with: their assigned cluster when they have one. Otherwise — a
 * brand-new user, or one not yet re-clustered — "people who write sentences like this": with
 * `clusterAssignTemperature` T > 0, the mixture of every cluster's option distribution weighted
 * by `softAssign` (id and centroid of the most similar cluster, size the weighted mean size),
 * carrying the assignment's confidence, so that a sentence as close to a scholar's cluster as to
 * an agent's gives the cluster prior little weight instead of all of β to a guess. Without T
 * (scorer-v1) the single nearest cluster. Null when no cluster can be compared.
 *
 * @example
 * const cluster = pickCluster(profile, clusters, embedding, config);
 */
export function pickCluster(
  profile: UserProfile | null,
  clusters: readonly ClusterProfile[],
  embedding: ArrayLike<number> | null,
  config: Pick<ScoringConfig, 'clusterAssignTemperature'> = DEFAULT_SCORING_CONFIG,
): ScoringCluster | null {
  if (clusters.length === 0) return null;
  if (profile?.cluster_id !== null && profile?.cluster_id !== undefined) {
    const own = clusters.find((c) => c.cluster_id === profile.cluster_id);
    if (own) return own;
  }
  if (!embedding || embedding.length === 0) return null;
  const t = config.clusterAssignTemperature ?? 0;
  // Without a temperature, the nearest cluster (ties to the lower id): T → 0 of the softmax.
  const { weights, confidence } = softAssign(clusters, embedding, t > 0 ? t : 1);
  if (weights.length === 0) return null;
  let top = weights[0]!;
  for (const w of weights) {
    if (
      w.similarity > top.similarity ||
      (w.similarity === top.similarity && w.cluster.cluster_id < top.cluster.cluster_id)
    )
      top = w;
  }
  if (!(t > 0)) return top.cluster;
  const dist: Record<string, number> = {};
  let size = 0;
  for (const w of weights) {
    size += w.weight * w.cluster.size;
    let total = 0;
    for (const v of Object.values(w.cluster.option_distribution)) if (v > 0 && Number.isFinite(v)) total += v;
    if (!(total > 0)) continue;
    for (const [k, v] of Object.entries(w.cluster.option_distribution)) {
      if (v > 0 && Number.isFinite(v)) dist[k] = (dist[k] ?? 0) + (w.weight * v) / total;
    }
  }
  let topOption: string | null = null;
  for (const [k, v] of Object.entries(dist)) if (topOption === null || v > dist[topOption]!) topOption = k;
  return {
    ...top.cluster,
    size: Math.max(1, Math.round(size)),
    option_distribution: dist,
    top_option: topOption,
    confidence,
  };
}
