import type { ClusterProfile, OptionVocabulary, UserProfile } from '../schemas/index.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import type { DocStore } from '../streams/stores/doc-store.ts';
import type { ClusterStore, ProfileStore } from '../streams/stores/profile-store.ts';
import {
  pickCluster,
  type ScoreResult,
  type ScoringCluster,
  type ScoringConfig,
  scoreOptions,
} from './scoring/index.ts';
import type { SearchHit, VectorIndex } from './vector/vector-index.ts';

/**
 * The search + scoring of `POST /recommend`, apart from HTTP: what the route reads (the
 * embedding, the profile, the user's cluster, the cluster list, the nearest contexts, the
 * document's history) and how it scores them. The route (api/routes/recommend.ts) and the
 * benchmark's in-process ceiling (bench/recommend/in-process.ts) both call exactly these, so
 * `recommend_overhead_ratio` divides the route by the same work, not by a copy of it.
 */

/** Where `/recommend` reads from, with the cluster list cached (it changes once a re-clustering). */
export interface RecommendSources {
  readonly embedder: Embedder;
  readonly index: VectorIndex;
  readonly docs: DocStore;
  /** Nearest past contexts read for P_vec. */
  readonly k: number;
  /** False: no profile, cluster or cluster list is read, and β = 0 (the non-personalised baseline). */
  readonly personalised: boolean;
  /** The scoring config the route scores with (β already 0 when not personalised). */
  readonly scoring: ScoringConfig;
  readonly vocabulary: OptionVocabulary;
  readUser(userId: string): Promise<UserProfile | null>;
  clusterOf(userId: string): Promise<number | null>;
  clusters(): Promise<ClusterProfile[]>;
}

export interface RecommendSourceDeps {
  readonly embedder: Embedder;
  readonly index: VectorIndex;
  readonly docs: DocStore;
  readonly profiles: ProfileStore;
  readonly clusters: ClusterStore;
  readonly vocabulary: OptionVocabulary;
  readonly scoring: ScoringConfig;
  readonly personalised: boolean;
  readonly clock: () => number;
  /** Nearest past contexts read for P_vec (default 20). */
  readonly neighbours?: number;
  /** How long the cluster list is cached (default 5 s). */
  readonly clusterCacheMs?: number;
}

/**
 * The sources of one API instance (or one benchmark worker): its stores, with the cluster list
 * cached for `clusterCacheMs`.
 *
 * @example
 * const sources = createRecommendSources(deps);
 * const inputs = await recommendInputs(sources, { userId: 'u1', text: 'Hi.', language: 'en' });
 * const { result, cluster } = scoreRecommendation(sources, inputs, { language: 'en', docField: null, draw: 0.5 });
 */
export function createRecommendSources(deps: RecommendSourceDeps): RecommendSources {
  let cache: { at: number; list: ClusterProfile[] } | null = null;
  const cacheMs = deps.clusterCacheMs ?? 5000;
  return {
    embedder: deps.embedder,
    index: deps.index,
    docs: deps.docs,
    k: deps.neighbours ?? 20,
    personalised: deps.personalised,
    scoring: deps.personalised ? deps.scoring : { ...deps.scoring, beta: 0 },
    vocabulary: deps.vocabulary,
    readUser: (userId) => deps.profiles.getMany([userId]).then((r) => r[0] ?? null),
    clusterOf: (userId) => deps.clusters.clusterOf([userId]).then((r) => r[0] ?? null),
    async clusters() {
      const now = deps.clock();
      if (cache && now - cache.at < cacheMs) return cache.list;
      const list = await deps.clusters.clusters();
      cache = { at: now, list };
      return list;
    },
  };
}

/** What one recommendation is asked for: the request's fields the reads depend on. */
export interface RecommendQuery {
  readonly userId: string;
  readonly text: string;
  /** The request's language, or the one detected from its text. */
  readonly language: string;
  readonly docId?: string;
  /** Reads the profile instead of `sources.readUser` (the route's read-your-writes wait). */
  readonly readProfile?: () => Promise<UserProfile | null>;
}

/** A store whose read failed: the answer is degraded, and says which. */
export interface StoreFailure {
  readonly store: 'profiles' | 'clusters' | 'vector_index' | 'documents';
  readonly error: unknown;
}

/** Everything the scorer reads, and the reads that failed (in the order the answer reports them). */
export interface RecommendInputs {
  readonly embedding: Float32Array;
  /** With its cluster id from the user → cluster mapping, when there is one. */
  readonly profile: UserProfile | null;
  readonly clusters: ClusterProfile[];
  readonly neighbours: SearchHit[];
  readonly history: Record<string, number>;
  readonly failures: StoreFailure[];
}

const NONE: Promise<null> = Promise.resolve(null);
const NO_CLUSTERS: Promise<ClusterProfile[]> = Promise.resolve([]);
const NO_HISTORY: Promise<Record<string, number>> = Promise.resolve({});

/**
 * The embedding, then every read at once. A store that fails leaves its part empty and is listed
 * in `failures` (a failed cluster mapping only when the profile read worked, a failed cluster list
 * only when the mapping did: one outage is reported once). An embedder that fails throws.
 */
export async function recommendInputs(s: RecommendSources, q: RecommendQuery): Promise<RecommendInputs> {
  const [embedding] = await s.embedder.embed([q.text]);
  const [profileRes, clusterIdRes, clustersRes, neighboursRes, historyRes] = await Promise.allSettled([
    s.personalised ? (q.readProfile ? q.readProfile() : s.readUser(q.userId)) : NONE,
    s.personalised ? s.clusterOf(q.userId) : NONE,
    s.personalised ? s.clusters() : NO_CLUSTERS,
    s.index.search(embedding!, s.k, { language: q.language }),
    q.docId ? s.docs.history(q.docId) : NO_HISTORY,
  ]);
  const failures: StoreFailure[] = [];
  let profile: UserProfile | null = null;
  if (profileRes.status === 'fulfilled') profile = profileRes.value;
  else failures.push({ store: 'profiles', error: profileRes.reason });
  const clusterId = clusterIdRes.status === 'fulfilled' ? clusterIdRes.value : null;
  if (clusterIdRes.status === 'rejected' && profileRes.status === 'fulfilled') {
    failures.push({ store: 'clusters', error: clusterIdRes.reason });
  }
  if (profile && clusterId !== null) profile = { ...profile, cluster_id: clusterId };
  let clusters: ClusterProfile[] = [];
  if (clustersRes.status === 'fulfilled') clusters = clustersRes.value;
  else if (clusterIdRes.status === 'fulfilled')
    failures.push({ store: 'clusters', error: clustersRes.reason });
  const neighbours = neighboursRes.status === 'fulfilled' ? neighboursRes.value : [];
  if (neighboursRes.status === 'rejected')
    failures.push({ store: 'vector_index', error: neighboursRes.reason });
  const history = historyRes.status === 'fulfilled' ? historyRes.value : {};
  if (historyRes.status === 'rejected') failures.push({ store: 'documents', error: historyRes.reason });
  return { embedding: embedding!, profile, clusters, neighbours, history, failures };
}

/**
 * The cluster the user counts in and the ranked options, from what {@link recommendInputs} read.
 * Pure: `draw` is the session's exploration draw (`explorationDraw(sessionId)`).
 */
export function scoreRecommendation(
  s: Pick<RecommendSources, 'personalised' | 'scoring' | 'vocabulary'>,
  inputs: RecommendInputs,
  q: { readonly language: string; readonly docField: string | null; readonly draw: number },
): { result: ScoreResult; cluster: ScoringCluster | null } {
  const cluster = s.personalised
    ? pickCluster(inputs.profile, inputs.clusters, inputs.embedding, s.scoring)
    : null;
  const result = scoreOptions({
    vocabulary: s.vocabulary,
    language: q.language,
    neighbours: inputs.neighbours,
    doc: { field: q.docField, history: inputs.history },
    profile: inputs.profile,
    embedding: inputs.embedding,
    cluster,
    config: s.scoring,
    draw: q.draw,
  });
  return { result, cluster };
}
