import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import type { MetricsRegistry } from '../common/metrics.ts';
import {
  type ClusterProfile,
  type OptionVocabulary,
  optionKey,
  type ParaphraseEvent,
  type ParaphraseRequest,
  type RecommendEvent,
  SCHEMA_VERSION,
  type SelectionEvent,
  type UserProfile,
} from '../schemas/index.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import type { ClusterStore, ProfileStore } from '../streams/stores/profile-store.ts';
import type { DocStore } from './docs/doc-store.ts';
import { ApiError, UpstreamError } from './errors.ts';
import type { EventSink } from './event-sink.ts';
import { buildOpenApi } from './openapi.ts';
import type { AbRouter } from './paraphrase/ab-router.ts';
import {
  detectLanguage,
  paraphraseRequestBodySchema,
  recommendRequestSchema,
  selectRequestSchema,
} from './schemas.ts';
import {
  explorationDraw,
  pickCluster,
  SCORER_VERSION,
  type ScoringConfig,
  ScoringError,
  scoreOptions,
} from './scoring/index.ts';
import type { VectorIndex } from './vector/vector-index.ts';

export interface ApiDeps {
  readonly events: EventSink;
  readonly profiles: ProfileStore;
  readonly clusters: ClusterStore;
  readonly index: VectorIndex;
  readonly embedder: Embedder;
  readonly router: AbRouter;
  readonly docs: DocStore;
  readonly vocabulary: OptionVocabulary;
  readonly scoring: ScoringConfig;
  /** false: β = 0 and no cluster prior, the non-personalised baseline. */
  readonly personalised: boolean;
  readonly metrics: MetricsRegistry;
  readonly clock: () => number;
  readonly newId?: () => string;
  /** Nearest past contexts read for P_vec (default 20). */
  readonly neighbours?: number;
  /** How long the cluster list is cached (default 5 s): clusters change once a re-clustering. */
  readonly clusterCacheMs?: number;
  readonly ready?: () => boolean;
}

const MAX_BODY = 1024 * 1024;

/** What an instance remembers of recent sessions, to check /paraphrase and /select against. */
interface SessionMemo {
  user: string;
  language: string;
  docId: string | null;
  candidates: number | null;
}

class Lru<K, V> {
  private readonly m = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    return this.m.get(k);
  }
  set(k: K, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as K);
  }
}

function invalid(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  const first = issues[0]!;
  return new ApiError('invalid_request', `${first.path}: ${first.message}`, { status: 400, details: issues });
}

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === '')
    throw new ApiError('invalid_request', '(body): a JSON object is required', { status: 400 });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`, {
      status: 400,
      cause: err,
    });
  }
}

async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const body = await readJson(req);
  const res = schema.safeParse(body);
  if (!res.success) throw invalid(res.error);
  return res.data;
}

/**
 * The recommend API as a Hono app (CONVENTIONS #11): tests call `app.request()`, `main.ts` files
 * serve it. It reads the materialised views (G, J, the vector index), scores with the shared pure
 * scorer, and emits A, B and C to the event log.
 *
 * @example
 * const app = createApi(deps);
 * const res = await app.request('/recommend', { method: 'POST', body: JSON.stringify({ user_id: 'u1', text: 'Hi.' }) });
 */
export function createApi(deps: ApiDeps) {
  const app = new Hono();
  const m = deps.metrics;
  const newId = deps.newId ?? randomUUID;
  const k = deps.neighbours ?? 20;
  const sessions = new Lru<string, SessionMemo>(100_000);
  let clusterCache: { at: number; list: ClusterProfile[] } | null = null;
  const scoring: ScoringConfig = deps.personalised ? deps.scoring : { ...deps.scoring, beta: 0 };

  m.onCollect(async () => {
    m.set('sentencify_vector_index_size', 'Contexts in the vector index', await deps.index.size());
  });

  // Request count and latency per route and status, for every response including errors.
  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
    const labels = { route, method: c.req.method, status: c.res.status };
    m.inc('sentencify_http_requests_total', 'HTTP requests', labels);
    m.observe('sentencify_http_request_duration_ms', 'HTTP request latency', performance.now() - t0, {
      route,
      status: c.res.status,
    });
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY,
      onError: () => {
        throw new ApiError('payload_too_large', `the body is over the ${MAX_BODY}-byte limit`, {
          status: 413,
        });
      },
    }),
  );

  const storeError = (store: string, err: unknown, reasons: string[]) => {
    m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store });
    reasons.push(`${store} unavailable: ${(err as Error).message}`);
  };

  const clustersNow = async (): Promise<ClusterProfile[]> => {
    const now = deps.clock();
    if (clusterCache && now - clusterCache.at < (deps.clusterCacheMs ?? 5000)) return clusterCache.list;
    const list = await deps.clusters.clusters();
    clusterCache = { at: now, list };
    return list;
  };

  app.post('/recommend', async (c) => {
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
    const a: RecommendEvent = {
      type: 'recommend',
      event_id: newId(),
      schema_version: SCHEMA_VERSION,
      ts: new Date(deps.clock()).toISOString(),
      user_id: body.user_id,
      recommend_session_id: sessionId,
      doc_id: body.doc_id,
      context: {
        text: body.text,
        prev_sentence: body.prev_sentence,
        next_sentence: body.next_sentence,
        language,
        doc_field: body.doc_field,
      },
      options: result.options,
      alpha: result.alpha,
      beta: result.beta,
      variant,
      epsilon: result.epsilon,
      explored: result.explored,
      model_version: SCORER_VERSION,
      profile_version: result.profile_version,
      inputs: {
        neighbours: neighbours.map((n) => ({
          id: n.id,
          score: n.score,
          option_key: n.payload.option_key,
          language: n.payload.language,
        })),
        doc_history: history,
        cluster_id: cluster?.cluster_id ?? null,
      },
    };
    try {
      await deps.events.emit(a);
      m.inc('sentencify_events_emitted_total', 'Events emitted to the log', { type: 'recommend' });
    } catch (err) {
      // The answer is still right; only its log line is missing, and that is reported.
      m.inc('sentencify_event_emit_errors_total', 'Events that could not be emitted', { type: 'recommend' });
      reasons.push(`event log unavailable: ${(err as Error).message}`);
    }
    sessions.set(sessionId, { user: body.user_id, language, docId: body.doc_id ?? null, candidates: null });
    return c.json({
      recommend_session_id: sessionId,
      options: result.options,
      profile_version: result.profile_version,
      model_version: SCORER_VERSION,
      variant,
      explored: result.explored,
      cold_start: (profile?.sessions ?? 0) === 0,
      cluster_id: cluster?.cluster_id ?? null,
      embedder: { model: deps.embedder.model, offline: deps.embedder.offline },
      ...(reasons.length > 0 ? { degraded: true, degraded_reasons: reasons } : {}),
    });
  });

  app.post('/paraphrase', async (c) => {
    const body = await parseBody(c.req.raw, paraphraseRequestBodySchema);
    const memo = sessions.get(body.recommend_session_id);
    if (memo && memo.user !== body.user_id) {
      throw new ApiError('session_user_mismatch', `recommend_session_id belongs to another user_id`, {
        status: 409,
      });
    }
    const language = body.language ?? memo?.language ?? detectLanguage(body.text);
    const request: ParaphraseRequest =
      body.style_request !== undefined
        ? { style_request: body.style_request }
        : { category: body.category!, intensity: body.intensity! };
    if ('category' in request && !deps.vocabulary.categories.includes(request.category)) {
      throw new ApiError(
        'invalid_request',
        `category: "${request.category}" is not one of ${deps.vocabulary.categories.join(', ')}`,
        {
          status: 400,
          details: [{ path: 'category', message: 'unknown category' }],
        },
      );
    }
    const { variant, paraphraser } = deps.router.paraphraserFor(body.user_id);
    const t0 = performance.now();
    let out: Awaited<ReturnType<typeof paraphraser.paraphrase>>;
    const llmLabels = { variant, provider: paraphraser.provider, model: paraphraser.model };
    try {
      out = await paraphraser.paraphrase({ text: body.text, language, request, n: body.n });
      m.inc('sentencify_llm_calls_total', 'LLM paraphrase calls', { ...llmLabels, outcome: 'ok' });
    } catch (err) {
      m.inc('sentencify_llm_calls_total', 'LLM paraphrase calls', { ...llmLabels, outcome: 'error' });
      throw err instanceof ApiError ? err : new UpstreamError('llm_failed', (err as Error).message, err);
    } finally {
      m.observe('sentencify_llm_latency_ms', 'LLM paraphrase latency', performance.now() - t0, { variant });
    }
    m.inc('sentencify_llm_tokens_total', 'LLM tokens', { variant, kind: 'prompt' }, out.promptTokens);
    m.inc('sentencify_llm_tokens_total', 'LLM tokens', { variant, kind: 'completion' }, out.completionTokens);
    const b: ParaphraseEvent = {
      type: 'paraphrase',
      event_id: newId(),
      schema_version: SCHEMA_VERSION,
      ts: new Date(deps.clock()).toISOString(),
      user_id: body.user_id,
      recommend_session_id: body.recommend_session_id,
      request,
      candidates: out.candidates,
      llm: {
        provider: out.provider,
        model: out.model,
        variant,
        prompt_tokens: out.promptTokens,
        completion_tokens: out.completionTokens,
        latency_ms: Math.round(out.latencyMs * 1000) / 1000,
      },
    };
    await emitOrFail(b);
    const docId = body.doc_id ?? memo?.docId ?? null;
    if (docId && 'category' in request) {
      await deps.docs
        .recordChoice(docId, body.recommend_session_id, optionKey(request))
        .catch((err) => storeError('documents', err, []));
    }
    sessions.set(body.recommend_session_id, {
      user: body.user_id,
      language,
      docId,
      candidates: out.candidates.length,
    });
    return c.json({
      recommend_session_id: body.recommend_session_id,
      candidates: out.candidates,
      provider: out.provider,
      model: out.model,
      variant,
      offline: out.provider === 'offline',
    });
  });

  app.post('/select', async (c) => {
    const body = await parseBody(c.req.raw, selectRequestSchema);
    const memo = sessions.get(body.recommend_session_id);
    if (memo && memo.user !== body.user_id) {
      throw new ApiError('session_user_mismatch', 'recommend_session_id belongs to another user_id', {
        status: 409,
      });
    }
    if (memo?.candidates != null && body.chosen_index !== null && body.chosen_index >= memo.candidates) {
      throw new ApiError(
        'invalid_request',
        `chosen_index: ${body.chosen_index} is out of range; the paraphrase had ${memo.candidates} candidates`,
        { status: 400, details: [{ path: 'chosen_index', message: 'out of range' }] },
      );
    }
    const ev: SelectionEvent = {
      type: 'selection',
      event_id: newId(),
      schema_version: SCHEMA_VERSION,
      ts: new Date(deps.clock()).toISOString(),
      user_id: body.user_id,
      recommend_session_id: body.recommend_session_id,
      chosen_index: body.chosen_index,
      final_text: body.final_text,
      edited: body.edited ?? false,
    };
    await emitOrFail(ev);
    return c.json({ ok: true, event_id: ev.event_id, recommend_session_id: body.recommend_session_id });
  });

  async function emitOrFail(e: ParaphraseEvent | SelectionEvent) {
    try {
      await deps.events.emit(e);
      m.inc('sentencify_events_emitted_total', 'Events emitted to the log', { type: e.type });
    } catch (err) {
      m.inc('sentencify_event_emit_errors_total', 'Events that could not be emitted', { type: e.type });
      throw new UpstreamError(
        'event_log_unavailable',
        `could not record the ${e.type} event; retry`,
        err,
        503,
      );
    }
  }

  app.get('/users/:id/profile', async (c) => {
    const id = c.req.param('id');
    let profile: UserProfile | null;
    let clusterId: number | null;
    try {
      const [profiles, clusterIds] = await Promise.all([
        deps.profiles.getMany([id]),
        deps.clusters.clusterOf([id]),
      ]);
      profile = profiles[0] ?? null;
      clusterId = clusterIds[0] ?? null;
    } catch (err) {
      m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store: 'profiles' });
      throw new UpstreamError('profile_store_unavailable', 'the profile store is unreachable', err, 503);
    }
    if (!profile)
      throw new ApiError('not_found', `no profile for user ${id} yet (a cold-start user)`, { status: 404 });
    return c.json({ ...profile, cluster_id: clusterId ?? profile.cluster_id });
  });

  app.get('/clusters', async (c) => {
    try {
      return c.json({ clusters: await deps.clusters.clusters() });
    } catch (err) {
      m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store: 'clusters' });
      throw new UpstreamError('cluster_store_unavailable', 'the cluster store is unreachable', err, 503);
    }
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', (c) => {
    const ready = deps.ready?.() ?? true;
    return c.json({ ready }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.text(await m.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }),
  );
  const openapi = buildOpenApi();
  app.get('/openapi.json', (c) => c.json(openapi));

  app.notFound((c) =>
    c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}`, retriable: false }, 404),
  );

  // The one place errors become HTTP (CONVENTIONS #8).
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      const issues = Array.isArray(err.details) ? { issues: err.details } : {};
      return c.json(
        { error: err.code, message: err.message, retriable: err.retriable, ...issues },
        err.status as ContentfulStatusCode,
      );
    }
    if (err instanceof ScoringError) {
      return c.json({ error: err.code, message: err.message, retriable: false }, 400);
    }
    m.inc('sentencify_internal_errors_total', 'Unexpected errors');
    console.error(err);
    return c.json(
      { error: 'internal', message: 'unexpected error; see the server log', retriable: true },
      500,
    );
  });
  return app;
}

export type Api = ReturnType<typeof createApi>;
export { z };
