import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { MetricsRegistry } from '../common/metrics.ts';
import type { OptionVocabulary } from '../schemas/index.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import type { DocStore } from '../streams/stores/doc-store.ts';
import type { ClusterStore, ProfileStore } from '../streams/stores/profile-store.ts';
import type { AuthConfig } from './auth/auth-config.ts';
import { type ApiKeyVariables, authMiddleware } from './auth/middleware.ts';
import { createRateLimiter, type RateLimiter } from './auth/rate-limit.ts';
import { ApiError, UpstreamError } from './errors.ts';
import type { EventSink } from './event-sink.ts';
import { allowedMethods } from './http/route-match.ts';
import { secureResponseHeaders } from './http/secure-headers.ts';
import {
  bodySizeLimit,
  corsAllowList,
  DEFAULT_TRANSPORT_LIMITS,
  methodNotAllowed,
  type TransportLimits,
  transportLimits,
} from './http/transport.ts';
import type { AbRouter } from './paraphrase/ab-router.ts';
import { createRouteContext } from './routes/context.ts';
import { type DashboardSources, dashboardRoutes } from './routes/dashboard.ts';
import { opsRoutes } from './routes/ops.ts';
import { paraphraseRoutes } from './routes/paraphrase.ts';
import { recommendRoutes } from './routes/recommend.ts';
import { selectRoutes } from './routes/select.ts';
import { type ErasurePublisher, usersRoutes } from './routes/users.ts';
import { viewRoutes } from './routes/views.ts';
import { type ScoringConfig, ScoringError } from './scoring/index.ts';
import type { ApiSessions } from './sessions/index.ts';
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
  /** What `/ready` shows besides `ready` (the topology's per-sink status and lag in this process). */
  readonly readyDetails?: () => Record<string, unknown>;
  /** `/metrics` text other than this registry's (API workers: all workers summed by the primary). */
  readonly metricsText?: () => Promise<string>;
  /** Session registry, idempotency store, read-your-writes bound (api/sessions/); absent: in-memory twins. */
  readonly sessions?: ApiSessions;
  /** Keys, rate limits, CORS and size limits; absent: open, unlimited, no CORS, default sizes. */
  readonly security?: ApiSecurity;
  /** Where `DELETE /users/:id` publishes erasure requests; absent: it answers 503. */
  readonly erasures?: ErasurePublisher;
  /** The KPI view and what else `/dashboard` reads; absent: `/api/dashboard` answers 404. */
  readonly dashboard?: DashboardSources;
  /**
   * Told of every failed dependency call the answer only names by its kind (a degraded
   * `/recommend`, a 502/503): the server's log gets the message, the client does not.
   */
  readonly onUpstreamError?: (what: string, err: unknown) => void;
}

/** Who may call the API and the transport rules around it (README, Security). */
export interface ApiSecurity {
  readonly auth: AuthConfig;
  /** Per key on the `events` routes; 0 or absent: no limit. */
  readonly rateLimit?: { readonly perMinute: number; readonly burst?: number };
  /**
   * Where the buckets of `rateLimit` live (`npm run api`: Redis, shared by every API process);
   * absent: this process's memory.
   */
  readonly limiter?: RateLimiter;
  /** Origins a browser may call from (CORS); none by default. */
  readonly corsOrigins?: readonly string[];
  readonly limits?: TransportLimits;
}

export type { ApiKeyVariables } from './auth/middleware.ts';

const MAX_BODY = 1024 * 1024;

/**
 * The recommend API as a Hono app (CONVENTIONS #11): tests call `app.request()`, `main.ts` files
 * serve it. It reads the materialised views (G, J, the vector index), scores with the shared pure
 * scorer, and emits A, B and C to the event log. Each group of routes is a sub-app in
 * api/routes/; this file holds what applies to all of them: metrics, the body limit, the 404 and
 * the one mapping of errors to HTTP.
 *
 * @example
 * const app = createApi(deps);
 * const res = await app.request('/recommend', { method: 'POST', body: JSON.stringify({ user_id: 'u1', text: 'Hi.' }) });
 */
export function createApi(deps: ApiDeps) {
  const app = new Hono<{ Variables: ApiKeyVariables }>();
  const m = deps.metrics;
  const ctx = createRouteContext(deps);
  const security = deps.security ?? { auth: { mode: 'open', reason: 'no auth configured' } as const };

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
    const key = c.get('apiKey');
    if (key)
      m.inc('sentencify_http_requests_by_key_total', 'HTTP requests per API key name', { key: key.name });
  });
  // Transport rules before anything reads the request (README, Security).
  app.use('*', secureResponseHeaders());
  app.use('*', transportLimits(security.limits ?? DEFAULT_TRANSPORT_LIMITS));
  app.use('*', corsAllowList(security.corsOrigins ?? []));
  app.use(
    '*',
    authMiddleware({
      auth: security.auth,
      limiter:
        security.limiter ??
        createRateLimiter({
          perMinute: security.rateLimit?.perMinute ?? 0,
          burst: security.rateLimit?.burst,
          clock: Date.now,
        }),
      routes: () => app.routes,
      metrics: m,
    }),
  );
  app.use(
    '*',
    bodySizeLimit(MAX_BODY, () => {
      throw new ApiError('payload_too_large', `the body is over the ${MAX_BODY}-byte limit`, {
        status: 413,
      });
    }),
  );

  app.route('/', recommendRoutes(ctx));
  app.route('/', paraphraseRoutes(ctx));
  app.route('/', selectRoutes(ctx));
  app.route('/', viewRoutes(ctx));
  app.route('/', opsRoutes(ctx));
  app.route('/', usersRoutes(ctx, deps.erasures));
  app.route('/', dashboardRoutes(ctx, deps.dashboard));

  app.notFound((c) => {
    const allow = allowedMethods(app.routes, c.req.path);
    if (allow.length > 0) {
      const e = methodNotAllowed(c.req.method, c.req.path, allow);
      return c.json({ error: e.code, message: e.message, retriable: false }, 405, e.headers);
    }
    return c.json(
      {
        error: 'not_found',
        message: `no route ${c.req.method} ${c.req.path.slice(0, 200)}`,
        retriable: false,
      },
      404,
    );
  });

  // The one place errors become HTTP (CONVENTIONS #8).
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err instanceof UpstreamError) deps.onUpstreamError?.(err.dependency, err.cause ?? err);
      const issues = Array.isArray(err.details) ? { issues: err.details } : {};
      return c.json(
        { error: err.code, message: err.message, retriable: err.retriable, ...issues },
        err.status as ContentfulStatusCode,
        err.headers,
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
