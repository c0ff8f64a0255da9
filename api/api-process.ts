/**
 * One API process: what `npm run api` runs (through api/main.ts), once, or in each worker when
 * API_WORKERS > 1. Composition root: the only place that reads the environment, creates clients
 * (Kafka, Redis, LLM endpoints), wires the app and handles SIGTERM/SIGINT.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { environment, logLine } from '../common/environment.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { DEFAULT_VOCABULARY } from '../schemas/index.ts';
import { createHashingEmbedder } from '../streams/embeddings/hashing-embedder.ts';
import { createKafkaLog } from '../streams/log/kafka-log.ts';
import { createRedisClusterStore, createRedisProfileStore } from '../streams/stores/redis-stores.ts';
import { type TopologyConfig, topicSpecs } from '../streams/topology.ts';
import { createApi } from './app.ts';
import { createBatchingEventSink } from './batching-event-sink.ts';
import { type ApiConfig, describeEndpoint, type LlmEndpoint, parseApiConfig } from './config.ts';
import { createRedisDocStore } from './docs/doc-store.ts';
import { type IndexFeeder, startIndexFeeder } from './index-feeder.ts';
import { createAbRouter } from './paraphrase/ab-router.ts';
import { createOfflineParaphraser } from './paraphrase/offline-paraphraser.ts';
import { createOpenAiParaphraser } from './paraphrase/openai-paraphraser.ts';
import type { Paraphraser } from './paraphrase/paraphraser.ts';
import { createMemoryVectorIndex } from './vector/memory-vector-index.ts';

const log = logLine;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let config: ApiConfig;
try {
  config = parseApiConfig(environment());
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

const embedder = createHashingEmbedder(env.EMBEDDING_DIM);
const index = createMemoryVectorIndex({ dim: env.EMBEDDING_DIM });
const metrics = new MetricsRegistry();
let topicsReady = false;
let feeder: IndexFeeder | null = null;
let stopping = false;
let retries = 0;

// One producer request per event would cap the API at a few hundred requests/s (the idempotent
// producer has one request in flight); the batching sink sends whatever queued meanwhile.
const events = createBatchingEventSink(kafka, topics, { timeoutMs: env.EVENT_TIMEOUT_MS });
const app = createApi({
  events,
  profiles: createRedisProfileStore(redis, { prefix: env.REDIS_PREFIX }),
  clusters: createRedisClusterStore(redis, { prefix: env.REDIS_PREFIX }),
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
  ready: () => !stopping && topicsReady && (feeder?.caughtUp() ?? false),
});

metrics.onCollect(() => {
  metrics.set('sentencify_redis_up', 'Whether the Redis connection is ready (1) or not (0)', redisUp ? 1 : 0);
  metrics.set(
    'sentencify_index_feeder_caught_up',
    'Whether the index feeder reached the end of H',
    feeder?.caughtUp() ? 1 : 0,
  );
  const s = feeder?.stats;
  if (s) {
    metrics.set('sentencify_index_feeder_records', 'H records read by the index feeder', s.records);
    metrics.set('sentencify_index_feeder_upserts', 'Contexts upserted into the index', s.upserts);
    metrics.set(
      'sentencify_index_feeder_undecodable',
      'H records the index feeder could not decode',
      s.undecodable,
    );
  }
  metrics.set('sentencify_event_sends', 'Producer requests made by the event sink', events.stats.sends);
  metrics.set(
    'sentencify_event_timeouts',
    'Events the log did not acknowledge in time',
    events.stats.timeouts,
  );
  metrics.set('sentencify_events_queued', 'Events waiting for the event log', events.stats.queued());
  metrics.set('sentencify_io_retries', 'Failed I/O calls that were retried', retries);
});

// Serve at once: /health answers and /ready says 503 while the topics and the index are prepared.
const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, (info) =>
  log('listening', { host: env.HOST, port: info.port }),
);
server.on('error', (err) => {
  log('fatal', { error: `HTTP server: ${err.message}` });
  void shutdown(1);
});

const groupId = `${env.INDEX_GROUP_PREFIX ?? `${env.TOPIC_NAMESPACE}-api-index`}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
log('starting', {
  brokers: env.KAFKA_BROKERS,
  topics,
  redis_prefix: env.REDIS_PREFIX,
  embedder: embedder.model,
  offline_embeddings: embedder.offline,
  index_group: groupId,
  personalised: env.PERSONALISED,
  scoring: { alpha: config.scoring.alpha, beta: config.scoring.beta, epsilon: config.scoring.epsilon },
  llm: {
    a: describeEndpoint(config.llm.a),
    b: config.llm.b ? `${describeEndpoint(config.llm.b.endpoint)}, share ${config.llm.b.share}` : 'none',
  },
});

/** The same partition counts as the stream's; whoever starts first creates the topics. */
const specs = topicSpecs({
  topics,
  sessionPartitions: env.SESSION_PARTITIONS,
  trainingPartitions: env.TRAINING_PARTITIONS,
} as Pick<TopologyConfig, 'topics' | 'sessionPartitions' | 'trainingPartitions'> as TopologyConfig);

async function prepare(): Promise<void> {
  for (let attempt = 1; !stopping; attempt++) {
    try {
      await kafka.ensureTopics(specs);
      break;
    } catch (err) {
      const message = (err as Error).message;
      // Topics that exist with other partition counts are a configuration error, not an outage.
      if (/partitions, not/.test(message)) throw err;
      retries++;
      log('retrying', { what: 'ensure topics', attempt, error: message });
      await sleep(Math.min(5000, 200 * 2 ** Math.min(attempt, 5)));
    }
  }
  if (stopping) return;
  topicsReady = true;
  feeder = startIndexFeeder(
    {
      log: kafka,
      index,
      embedder,
      onRetry: (what, err, attempt) => {
        retries++;
        log('retrying', { what, attempt, error: (err as Error).message });
      },
      onError: (err) => {
        log('fatal', { error: `index feeder: ${(err as Error).stack ?? String(err)}` });
        void shutdown(1);
      },
    },
    { topic: topics.trainingExamples, groupId },
  );
  const f = feeder;
  const t0 = Date.now();
  while (!stopping && !f.caughtUp()) await sleep(100);
  if (!stopping) {
    log('ready', { index_size: await index.size(), h_records: f.stats.records, ms: Date.now() - t0 });
  }
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
  await feeder?.stop();
  // This instance's group is of no use to anyone once it is gone: remove it instead of leaving
  // its committed offsets to expire.
  // The consumer leaves its group asynchronously, so the first tries may find it not yet empty.
  for (let attempt = 1; feeder && attempt <= 5; attempt++) {
    try {
      await (await kafka.admin()).deleteGroups([groupId]);
      break;
    } catch (err) {
      if (attempt === 5)
        log('could not delete the index group', { group: groupId, error: (err as Error).message });
      else await sleep(300);
    }
  }
  await Promise.allSettled([kafka.close(), redis.quit().catch(() => redis.disconnect())]);
  log('stopped', { index_feeder: feeder?.stats ?? null });
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
