/**
 * One API process: what `npm run api` runs (through api/main.ts), once, or in each worker when
 * API_WORKERS > 1. Composition root: the only place that reads the environment, creates clients
 * (Kafka, Redis, LLM endpoints), wires the app and handles SIGTERM/SIGINT.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { priceFrom } from '../analytics/cost.ts';
import { createKpiView } from '../analytics/kpis.ts';
import { environment, logLine } from '../common/environment.ts';
import { MetricsRegistry, serveToClusterPrimary } from '../common/metrics.ts';
import { DEFAULT_VOCABULARY } from '../schemas/index.ts';
import { embedderFromEnv, parseEmbeddingsEnv } from '../streams/embeddings/embedder-from-env.ts';
import { createKafkaLog } from '../streams/log/kafka-log.ts';
import { createRetrier } from '../streams/runtime/retry.ts';
import { createRedisDocStore } from '../streams/stores/doc-store.ts';
import { createRedisErasureRegistry } from '../streams/stores/erasure-registry.ts';
import { createRedisClusterStore, createRedisProfileStore } from '../streams/stores/redis-stores.ts';
import { DEFAULT_TOPOLOGY_CONFIG, type TopologyConfig, topicSpecs } from '../streams/topology-config.ts';
import { type RunningTopology, startTopology } from '../streams/wiring.ts';
import { createApi } from './app.ts';
import { describeAuth } from './auth/auth-config.ts';
import { createRedisRateLimiter } from './auth/rate-limit.ts';
import { createBatchingEventSink } from './batching-event-sink.ts';
import { type ApiConfig, describeEndpoint, type LlmEndpoint, parseApiConfig } from './config.ts';
import { answerClientErrorsWithJson, nodeServerOptions } from './http/node-server.ts';
import { createAbRouter } from './paraphrase/ab-router.ts';
import { createOfflineParaphraser } from './paraphrase/offline-paraphraser.ts';
import { createOpenAiParaphraser } from './paraphrase/openai-paraphraser.ts';
import type { Paraphraser } from './paraphrase/paraphraser.ts';
import { createLogErasurePublisher } from './routes/users.ts';
import { createRedisIdempotencyStore, createRedisSessionRegistry } from './sessions/index.ts';
import { createUpstreamErrorLog } from './upstream-error-log.ts';
import { createMemoryVectorIndex } from './vector/memory-vector-index.ts';
import { createQdrantVectorIndex } from './vector/qdrant-vector-index.ts';

const log = logLine;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let config: ApiConfig;
try {
  config = parseApiConfig(environment());
  // The embeddings variables too, so a bad one stops the start with exit 2 and its message.
  parseEmbeddingsEnv(environment());
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const { env, topics } = config;

const kafka = createKafkaLog({
  brokers: env.KAFKA_BROKERS,
  clientId: `sentencify-api-${process.pid}`,
  sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
  idleIntervalMs: env.IDLE_INTERVAL_MS,
});
// Fail fast while Redis is away: no offline queue (a command fails at once instead of waiting for
// a reconnect), a short per-command timeout for a Redis that accepts but does not answer, and a
// retry strategy that never gives up reconnecting. /recommend then answers degraded in
// milliseconds instead of hanging; the scorer works without G and J.
const redis = new Redis(env.REDIS_URL, {
  enableOfflineQueue: false,
  commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
  lazyConnect: false,
});
let redisUp = false;
let lastRedisError = '';
redis.on('ready', () => {
  redisUp = true;
  log('redis ready');
});
redis.on('error', (err) => {
  // One line per distinct error, not one per reconnect attempt.
  if (err.message !== lastRedisError) log('redis error', { error: err.message });
  lastRedisError = err.message;
});
redis.on('close', () => {
  redisUp = false;
});

function paraphraser(ep: LlmEndpoint | null): Paraphraser {
  if (!ep) return createOfflineParaphraser();
  return createOpenAiParaphraser({
    baseURL: ep.baseURL,
    apiKey: ep.apiKey,
    model: ep.model,
    timeoutMs: config.llm.timeoutMs,
  });
}

// With QDRANT_URL every API process reads one shared collection (the stream processor's index
// sink writes it); without it each process keeps its own in-process index, fed by its index sink.
const qdrant = env.QDRANT_URL
  ? createQdrantVectorIndex({
      url: env.QDRANT_URL,
      apiKey: env.QDRANT_API_KEY,
      collection: env.QDRANT_COLLECTION ?? `${env.TOPIC_NAMESPACE}_contexts_h`,
      dim: env.EMBEDDING_DIM,
      timeoutMs: env.QDRANT_TIMEOUT_MS,
    })
  : null;
const index = qdrant ?? createMemoryVectorIndex({ dim: env.EMBEDDING_DIM });
const metrics = new MetricsRegistry();
// EMBEDDINGS_API_BASE: an OpenAI-compatible model (labelled, counted fallback to the hashing
// embedder); without it, hashing. Must be the stream processor's model: the index holds its vectors.
const embedder = embedderFromEnv(environment(), { dim: env.EMBEDDING_DIM, metrics, log });
const profiles = createRedisProfileStore(redis, { prefix: env.REDIS_PREFIX });
const clusters = createRedisClusterStore(redis, { prefix: env.REDIS_PREFIX });
// With API_WORKERS > 1 the primary answers /metrics with every worker's registry summed.
if (process.env.SENTENCIFY_API_WORKER === '1') serveToClusterPrimary(metrics);
let topicsReady = false;
let topology: RunningTopology | null = null;
let stopping = false;

// One producer request per event would cap the API at a few hundred requests/s (the idempotent
// producer has one request in flight); the batching sink sends whatever queued meanwhile.
const events = createBatchingEventSink(kafka, topics, { timeoutMs: env.EVENT_TIMEOUT_MS });
// The dashboard's KPI view: this process's kpis sink folds H and the dead letters into it.
const kpis = createKpiView();
const priceVar = (name: string) => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`${name} must be a number >= 0 (price per 1k tokens), got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const promptPer1k = priceVar('PRICE_PER_1K_PROMPT');
const completionPer1k = priceVar('PRICE_PER_1K_COMPLETION');
const onUpstreamError = createUpstreamErrorLog(log, Date.now);
const app = createApi({
  onUpstreamError,
  dashboard: {
    kpis,
    mode: 'services',
    price: priceFrom({
      ...(promptPer1k !== undefined ? { promptPer1k } : {}),
      ...(completionPer1k !== undefined ? { completionPer1k } : {}),
    }),
    eventsPerTopic: async () => {
      const counts: Record<string, number> = {};
      for (const e of await kafka.topicEnds(Object.values(topics)))
        counts[e.topic] = (counts[e.topic] ?? 0) + e.offset;
      return counts;
    },
  },
  events,
  // DELETE /users/:id publishes here; the stream's erasure role applies it (docs/erasure.md).
  erasures: createLogErasurePublisher(kafka, topics.erasure),
  profiles,
  clusters,
  index,
  embedder,
  router: createAbRouter({
    a: paraphraser(config.llm.a),
    b: config.llm.b ? paraphraser(config.llm.b.endpoint) : undefined,
    bShare: config.llm.b?.share,
    salt: config.llm.salt,
  }),
  docs: createRedisDocStore(redis, { prefix: env.REDIS_PREFIX }),
  vocabulary: DEFAULT_VOCABULARY,
  scoring: config.scoring,
  personalised: env.PERSONALISED,
  metrics,
  clock: Date.now,
  neighbours: env.NEIGHBOURS,
  // Ready = this instance can answer from the whole log: the topics exist and the index holds all
  // of H. Redis being away does not make it unready: /recommend still answers (degraded), and
  // taking every instance out of rotation at once would turn a degraded service into none.
  ready: () =>
    !stopping && topicsReady && (qdrant !== null || (topology?.sink('index')?.caughtUp() ?? false)),
  readyDetails: () => topology?.details() ?? {},
  metricsText: process.env.SENTENCIFY_API_WORKER === '1' ? clusterMetricsText : undefined,
  // Shared by every worker and host: who owns which session, and the first answers of retries.
  sessions: {
    registry: createRedisSessionRegistry(redis, { prefix: env.REDIS_PREFIX, ttlMs: env.SESSION_TTL_MS }),
    idempotency: createRedisIdempotencyStore(redis, {
      prefix: env.REDIS_PREFIX,
      ttlMs: env.IDEMPOTENCY_TTL_MS,
    }),
    readYourWrites: { maxWaitMs: env.READ_YOUR_WRITES_MAX_WAIT_MS, pollMs: env.READ_YOUR_WRITES_POLL_MS },
  },
  // The rate limit's buckets in Redis: every API process (API_WORKERS, other hosts) spends one budget per key.
  security: {
    ...config.security,
    limiter: createRedisRateLimiter(redis, {
      perMinute: config.security.rateLimit?.perMinute ?? 0,
      burst: config.security.rateLimit?.burst,
      clock: Date.now,
      prefix: env.REDIS_PREFIX,
      onError: (err) => onUpstreamError('rate_limit', err),
    }),
  },
});

metrics.onCollect(() => {
  metrics.set('sentencify_redis_up', 'Whether the Redis connection is ready (1) or not (0)', redisUp ? 1 : 0);
  metrics.set('sentencify_event_sends', 'Producer requests made by the event sink', events.stats.sends);
  metrics.set(
    'sentencify_event_timeouts',
    'Events the log did not acknowledge in time',
    events.stats.timeouts,
  );
  metrics.set('sentencify_events_queued', 'Events waiting for the event log', events.stats.queued());
});

/** In a worker: asks the primary for the workers' registries summed (prom-client's cluster registry). */
function clusterMetricsText(): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = Math.random().toString(36).slice(2);
    const onMessage = (m: { type?: string; id?: string; text?: string; error?: string }) => {
      if (m?.type !== 'sentencify:metrics' || m.id !== id) return;
      process.off('message', onMessage);
      clearTimeout(t);
      if (m.error) reject(new Error(m.error));
      else resolve(m.text ?? '');
    };
    const t = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer the metrics request'));
    }, 5_000);
    process.on('message', onMessage);
    process.send?.({ type: 'sentencify:metrics-request', id });
  });
}

// Serve at once: /health answers and /ready says 503 while the topics and the index are prepared.
const server = serve(
  { fetch: app.fetch, port: env.PORT, hostname: env.HOST, serverOptions: nodeServerOptions },
  (info) => log('listening', { host: env.HOST, port: info.port }),
);
// Requests Node refuses itself (headers past 256 KiB, not HTTP) still get the JSON error shape.
answerClientErrorsWithJson(server as import('node:http').Server);
server.on('error', (err) => {
  log('fatal', { error: `HTTP server: ${err.message}` });
  void shutdown(1);
});

const groupId = `${env.INDEX_GROUP_PREFIX ?? `${env.TOPIC_NAMESPACE}-api-index`}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
log('starting', {
  brokers: env.KAFKA_BROKERS,
  topics,
  redis_prefix: env.REDIS_PREFIX,
  vector_index: qdrant ? `qdrant ${env.QDRANT_URL} (${qdrant.collection})` : 'in-process, fed from H',
  embedder: embedder.model,
  offline_embeddings: embedder.offline,
  index_group: groupId,
  personalised: env.PERSONALISED,
  // Key names and scopes only, never a secret.
  auth: describeAuth(config.security.auth),
  rate_limit_per_min: env.RATE_LIMIT_PER_MIN || 'off',
  cors_origins: config.security.corsOrigins,
  scoring: { alpha: config.scoring.alpha, beta: config.scoring.beta, epsilon: config.scoring.epsilon },
  llm: {
    a: describeEndpoint(config.llm.a),
    b: config.llm.b ? `${describeEndpoint(config.llm.b.endpoint)}, share ${config.llm.b.share}` : 'none',
  },
});

/**
 * The API process runs the topology's `index` role: the in-process index is fed from H by the
 * index sink, in a group of this instance alone (every instance holds the whole index, so it reads
 * all of H from the beginning at every start). Same partition counts as the stream's; whoever
 * starts first creates the topics.
 */
const cfg: TopologyConfig = {
  ...DEFAULT_TOPOLOGY_CONFIG,
  topics,
  sessionPartitions: env.SESSION_PARTITIONS,
  trainingPartitions: env.TRAINING_PARTITIONS,
  sinkGroups: { index: groupId, kpis: `${groupId}-kpis` },
};
const onRetry = (what: string, err: unknown, attempt: number) =>
  log('retrying', { what, attempt, error: (err as Error).message });

async function prepare(): Promise<void> {
  const retrier = createRetrier({ onRetry });
  await retrier.io(async () => {
    if (!stopping) await kafka.ensureTopics(topicSpecs(cfg));
  }, 'ensure topics');
  if (stopping) return;
  topicsReady = true;
  // Reading a shared Qdrant collection, this process runs no index sink (the stream processor feeds
  // it); the dashboard's KPI view is folded here either way.
  topology = startTopology(
    {
      log: kafka,
      profiles,
      clusters,
      embedder,
      index,
      kpis,
      // The in-process index drops erased users' H and applies erasures itself (docs/erasure.md).
      registry: createRedisErasureRegistry(redis, {
        salt: process.env.ERASURE_SALT || env.TOPIC_NAMESPACE,
        prefix: env.REDIS_PREFIX,
      }),
      clock: Date.now,
      metrics,
      onRetry,
      onError: (err) => {
        log('fatal', { error: `sink: ${(err as Error).stack ?? String(err)}` });
        void shutdown(1);
      },
    },
    cfg,
    qdrant ? ['kpis'] : ['index', 'kpis'],
  );
  if (qdrant) {
    log('ready', { vector_index: `qdrant ${env.QDRANT_URL}`, collection: qdrant.collection });
    return;
  }
  const sink = topology.sink('index')!;
  const t0 = Date.now();
  while (!stopping && !sink.caughtUp()) await sleep(100);
  if (!stopping)
    log('ready', { index_size: await index.size(), h_records: sink.stats.records, ms: Date.now() - t0 });
}
prepare().catch((err) => {
  log('fatal', { error: (err as Error).message });
  void shutdown(1);
});

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping: no new connections, draining requests in flight, closing clients');
  const hardStop = setTimeout(() => process.exit(code || 1), env.DRAIN_TIMEOUT_MS + 5_000);
  hardStop.unref();
  // close() stops accepting and, since Node 19, also closes idle keep-alive connections; it
  // calls back once the requests in flight have been answered.
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  const drainTimer = setTimeout(() => {
    log('drain timeout: closing the remaining connections');
    (server as import('node:http').Server).closeAllConnections();
  }, env.DRAIN_TIMEOUT_MS);
  await drained;
  clearTimeout(drainTimer);
  await topology?.stop();
  // This instance's group is of no use to anyone once it is gone: remove it instead of leaving
  // its committed offsets to expire.
  // The consumer leaves its group asynchronously, so the first tries may find it not yet empty.
  for (let attempt = 1; topology && attempt <= 5; attempt++) {
    try {
      await (await kafka.admin()).deleteGroups(topology.consumers.map((c) => c.group));
      break;
    } catch (err) {
      if (attempt === 5)
        log('could not delete the index group', { group: groupId, error: (err as Error).message });
      else await sleep(300);
    }
  }
  await Promise.allSettled([kafka.close(), redis.quit().catch(() => redis.disconnect())]);
  log('stopped', topology?.details() ?? {});
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
