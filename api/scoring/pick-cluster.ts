import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';

/**
 * The cluster to score a user with: their assigned cluster when they have one; otherwise — a
 * brand-new user — the cluster whose centroid's context part (its first `embedding.length`
 * values; see `userVector` in streams/clustering) is most similar to this context: "people who
 * write sentences like this". Null when there are no clusters.
 *
 * @example
 * const cluster = pickCluster(profile, clusters, embedding);
 */
export function pickCluster(
  profile: UserProfile | null,
  clusters: readonly ClusterProfile[],
  embedding: ArrayLike<number> | null,
): ClusterProfile | null {
  if (clusters.length === 0) return null;
  if (profile?.cluster_id !== null && profile?.cluster_id !== undefined) {
    const own = clusters.find((c) => c.cluster_id === profile.cluster_id);
    if (own) return own;
  }
  if (!embedding || embedding.length === 0) return null;
  const d = embedding.length;
  let best: ClusterProfile | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const c of clusters) {
    if (c.centroid.length < d) continue;
    let dot = 0;
    let nc = 0;
    let ne = 0;
    for (let j = 0; j < d; j++) {
      dot += embedding[j]! * c.centroid[j]!;
      nc += c.centroid[j]! * c.centroid[j]!;
      ne += embedding[j]! * embedding[j]!;
    }
    const s = nc > 0 && ne > 0 ? dot / Math.sqrt(nc * ne) : Number.NEGATIVE_INFINITY;
    if (s > bestScore || (s === bestScore && best !== null && c.cluster_id < best.cluster_id)) {
      bestScore = s;
      best = c;
    }
  }
  return bestScore > Number.NEGATIVE_INFINITY ? best : null;
}
