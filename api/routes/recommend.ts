import { Hono } from 'hono';
import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';
import { buildRecommendEvent } from '../recommend-event.ts';
import { parseBody } from '../request-body.ts';
import { detectLanguage, type RecommendResponse, recommendRequestSchema } from '../schemas.ts';
import {
  explorationDraw,
  pickCluster,
  SCORER_VERSION,
  type ScoringConfig,
  scoreOptions,
} from '../scoring/index.ts';
import type { RouteContext } from './context.ts';

/**
 * POST /recommend: ranks the options for a sentence from the views (G, J, the vector index, the
 * document's history) and emits A. A store that fails makes the answer `degraded`, never a 5xx.
 */
export function recommendRoutes(ctx: RouteContext) {
  const { deps, newId, sessions, storeError } = ctx;
  const m = deps.metrics;
  const k = deps.neighbours ?? 20;
  const scoring: ScoringConfig = deps.personalised ? deps.scoring : { ...deps.scoring, beta: 0 };
  let clusterCache: { at: number; list: ClusterProfile[] } | null = null;

  const clustersNow = async (): Promise<ClusterProfile[]> => {
    const now = deps.clock();
    if (clusterCache && now - clusterCache.at < (deps.clusterCacheMs ?? 5000)) return clusterCache.list;
    const list = await deps.clusters.clusters();
    clusterCache = { at: now, list };
    return list;
  };

  return new Hono().post('/recommend', async (c) => {
    const body = await parseBody(c.req.raw, recommendRequestSchema);
    const sessionId = body.recommend_session_id ?? newId();
    const language = body.language ?? detectLanguage(body.text);
    const reasons: string[] = [];

    const [embedding] = await deps.embedder.embed([body.text]);
    const [profileRes, clusterIdRes, clustersRes, neighboursRes, historyRes] = await Promise.allSettled([
      deps.personalised
        ? deps.profiles.getMany([body.user_id]).then((r) => r[0] ?? null)
        : Promise.resolve(null),
      deps.personalised
        ? deps.clusters.clusterOf([body.user_id]).then((r) => r[0] ?? null)
        : Promise.resolve(null),
      deps.personalised ? clustersNow() : Promise.resolve([] as ClusterProfile[]),
      deps.index.search(embedding!, k, { language }),
      body.doc_id ? deps.docs.history(body.doc_id) : Promise.resolve({}),
    ]);
    let profile: UserProfile | null = null;
    if (profileRes.status === 'fulfilled') profile = profileRes.value;
    else storeError('profiles', profileRes.reason, reasons);
    const clusterId = clusterIdRes.status === 'fulfilled' ? clusterIdRes.value : null;
    if (clusterIdRes.status === 'rejected' && profileRes.status === 'fulfilled') {
      storeError('clusters', clusterIdRes.reason, reasons);
    }
    if (profile && clusterId !== null) profile = { ...profile, cluster_id: clusterId };
    let clusters: ClusterProfile[] = [];
    if (clustersRes.status === 'fulfilled') clusters = clustersRes.value;
    else if (clusterIdRes.status === 'fulfilled') storeError('clusters', clustersRes.reason, reasons);
    const neighbours = neighboursRes.status === 'fulfilled' ? neighboursRes.value : [];
    if (neighboursRes.status === 'rejected') storeError('vector_index', neighboursRes.reason, reasons);
    const history = historyRes.status === 'fulfilled' ? historyRes.value : {};
    if (historyRes.status === 'rejected') storeError('documents', historyRes.reason, reasons);

    const cluster = deps.personalised ? pickCluster(profile, clusters, embedding!) : null;
    const result = scoreOptions({
      vocabulary: deps.vocabulary,
      language,
      neighbours,
      doc: { field: body.doc_field ?? null, history },
      profile,
      embedding: embedding!,
      cluster,
      config: scoring,
      draw: explorationDraw(sessionId),
    });
    const { variant } = deps.router.paraphraserFor(body.user_id);
    const a = buildRecommendEvent({
      eventId: newId(),
      at: deps.clock(),
      sessionId,
      request: body,
      language,
      result,
      variant,
      neighbours,
      docHistory: history,
      clusterId: cluster?.cluster_id ?? null,
    });
    try {
      await deps.events.emit(a);
      m.inc('sentencify_events_emitted_total', 'Events emitted to the log', { type: 'recommend' });
    } catch (err) {
      // The answer is still right; only its log line is missing, and that is reported.
      m.inc('sentencify_event_emit_errors_total', 'Events that could not be emitted', { type: 'recommend' });
      reasons.push(`event log unavailable: ${(err as Error).message}`);
    }
    sessions.set(sessionId, { user: body.user_id, language, docId: body.doc_id ?? null, candidates: null });
    const response: RecommendResponse = {
      recommend_session_id: sessionId,
      options: result.options,
      profile_version: result.profile_version,
      model_version: SCORER_VERSION,
      variant,
      explored: result.explored,
      cold_start: (profile?.sessions ?? 0) === 0,
      cluster_id: cluster?.cluster_id ?? null,
      embedder: { model: deps.embedder.model, offline: deps.embedder.offline },
      vector_index: deps.index.backend,
      ...(reasons.length > 0 ? { degraded: true, degraded_reasons: reasons } : {}),
    };
    return c.json(response);
  });
}
