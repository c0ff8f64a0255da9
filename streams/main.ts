/**
 * The stream processor against real services: `npm run stream`. Composition root: the only place
 * that reads the environment, creates clients, builds the topology (`startTopology`, the same
 * wiring as `npm start` and `npm run api`) and handles SIGTERM/SIGINT.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { createQdrantVectorIndex } from '../api/vector/qdrant-vector-index.ts';
import { wheelJobs } from '../app/wheel-jobs.ts';
import { environment, logLine as log } from '../common/environment.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { createOpsApp } from '../common/ops-app.ts';
import { createScheduler } from '../common/scheduler.ts';
import { readLogsFromMongo } from '../simulator/offline/mongo-logs.ts';
import { createWorkerReclusterer } from './clustering/worker-reclusterer.ts';
import { createRegistrySerde, type EventSerde, jsonSerde, registrySubjects } from './codec/serde.ts';
import { parseStreamConfig } from './config.ts';
import { embedderFromEnv, parseEmbeddingsEnv } from './embeddings/embedder-from-env.ts';
import { createKafkaLog } from './log/kafka-log.ts';
import { createRetrier } from './runtime/retry.ts';
import { createRedisDocStore } from './stores/doc-store.ts';
import { createMemoryErasureAuditStore, createMongoErasureAuditStore } from './stores/erasure-audit.ts';
import { createRedisErasureRegistry } from './stores/erasure-registry.ts';
import { createEsClient, createEsGoldenStore } from './stores/es-golden-store.ts';
import { createMongoStores, parseWriteConcern } from './stores/mongo-stores.ts';
import { createRedisClusterStore, createRedisProfileStore } from './stores/redis-stores.ts';
import { topicSpecs } from './topology-config.ts';
import { startTopology } from './wiring.ts';

/** A URL without its password, for logs. */
const redactUrl = (u: string) => u.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

let config: ReturnType<typeof parseStreamConfig>;
try {
  config = parseStreamConfig(environment());
  // The embeddings variables too, so a bad one stops the start with exit 2 and its message.
  parseEmbeddingsEnv(environment());
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const { env, topology: cfg } = config;

// With SCHEMA_REGISTRY_URL, A/B/C and H are JSON Schema through the registry (plain JSON still
// reads); the schemas are registered before anything else, so a wrong URL stops the start.
let serde: EventSerde = jsonSerde;
if (env.SCHEMA_REGISTRY_URL) {
  const registry = createRegistrySerde({
    host: env.SCHEMA_REGISTRY_URL,
    subjects: registrySubjects(cfg.topics),
  });
  try {
    const ids = await registry.init();
    log('schema registry', { url: env.SCHEMA_REGISTRY_URL, schema_ids: ids });
  } catch (err) {
    process.stderr.write(
      `schema registry at ${env.SCHEMA_REGISTRY_URL} (SCHEMA_REGISTRY_URL): could not register the event schemas: ${(err as Error).message}\n`,
    );
    process.exit(1);
  }
  serde = registry;
}

const kafka = createKafkaLog({
  brokers: env.KAFKA_BROKERS,
  clientId: `sentencify-stream-${process.pid}`,
  sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
  idleIntervalMs: env.IDLE_INTERVAL_MS,
});
const redis = new Redis(env.REDIS_URL, {
  maxRetriesPerRequest: 2,
  enableOfflineQueue: true,
  lazyConnect: false,
});
redis.on('error', (err) => log('redis error', { error: err.message }));
const reclusterer = createWorkerReclusterer();
const metrics = new MetricsRegistry();
// EMBEDDINGS_API_BASE: an OpenAI-compatible model (labelled, counted fallback to the hashing
// embedder), one cached instance shared by the profile and index sinks; without it, hashing.
const embedder = embedderFromEnv(environment(), { dim: env.EMBEDDING_DIM, metrics, log });
let ready = false;
const onRetry = (what: string, err: unknown, attempt: number) =>
  log('retrying', { what, attempt, error: (err as Error).message });
// With QDRANT_URL the index sink runs here and writes the shared collection every API reads;
// without it, each API process feeds its own in-process index (the API's `index` role).
const index = env.QDRANT_URL
  ? createQdrantVectorIndex({
      url: env.QDRANT_URL,
      apiKey: env.QDRANT_API_KEY,
      collection: env.QDRANT_COLLECTION ?? `${env.TOPIC_NAMESPACE}_contexts_h`,
      dim: embedder.dim,
      timeoutMs: env.QDRANT_TIMEOUT_MS,
    })
  : undefined;

if (!env.ERASURE_SALT)
  log('warning: ERASURE_SALT is not set', {
    detail:
      'erased users are hashed with the namespace, so anyone holding the audit can confirm a guessed id; set a secret ERASURE_SALT, the same for npm run stream and npm run api',
  });
log('starting', {
  roles: env.ROLE,
  brokers: env.KAFKA_BROKERS,
  topics: cfg.topics,
  embedder: embedder.model,
  serde: serde.name,
  offline_embeddings: embedder.offline,
  vector_index: index ? `qdrant ${env.QDRANT_URL}` : 'none here (each API process keeps its own)',
  elasticsearch: env.ES_URL
    ? `${redactUrl(env.ES_URL)} indices ${env.ES_INDEX_PREFIX}YYYY.MM.DD`
    : 'none (no golden indices)',
  mongodb: env.MONGODB_URL
    ? `${redactUrl(env.MONGODB_URL)} db ${env.MONGODB_DB}`
    : 'none (no archive, no training_examples)',
});
// A short server selection timeout: a MongoDB that is away fails an apply in seconds, and the sink
// runtime's backoff takes over (the driver's default would block each apply for 30 s).
const mongo = env.MONGODB_URL ? new MongoClient(env.MONGODB_URL, { serverSelectionTimeoutMS: 5_000 }) : null;
const mongoStores = mongo
  ? createMongoStores(mongo, {
      db: env.MONGODB_DB,
      writeConcern: parseWriteConcern(env.MONGODB_WRITE_CONCERN),
    })
  : null;
const es = env.ES_URL
  ? createEsClient({
      node: env.ES_URL,
      apiKey: env.ES_API_KEY,
      username: env.ES_USERNAME,
      password: env.ES_PASSWORD,
      caFile: env.ES_CA_FILE,
    })
  : null;
const golden = es ? createEsGoldenStore(es, { prefix: env.ES_INDEX_PREFIX }) : undefined;
await kafka.ensureTopics(topicSpecs(cfg));
// connect() first, each attempt: after a failed first (implicit) connect the driver's topology
// stays closed ("Topology is closed"), and only an explicit connect opens it again.
if (mongoStores)
  await createRetrier({ onRetry }).io(async () => {
    await mongo!.connect();
    await mongoStores.ensureIndexes();
  }, 'mongodb indexes');
if (index) {
  // A collection of another dimension is a configuration error (exit); an unreachable Qdrant is waited for.
  try {
    await createRetrier({ onRetry }).io(() => index.ensure(), 'qdrant collection');
  } catch (err) {
    process.stderr.write(`qdrant at ${env.QDRANT_URL} (QDRANT_URL): ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const topology = startTopology(
  {
    log: kafka,
    profiles: createRedisProfileStore(redis, { prefix: env.REDIS_PREFIX }),
    clusters: createRedisClusterStore(redis, { prefix: env.REDIS_PREFIX }),
    // Written by the API (/paraphrase) under the same prefix; passed so that an erasure reaches it.
    docs: createRedisDocStore(redis, { prefix: env.REDIS_PREFIX }),
    embedder,
    index,
    archive: mongoStores?.archive,
    examples: mongoStores?.examples,
    golden,
    // Erasure (docs/erasure.md): the registry in Redis, keyed by the salted hash of the user id;
    // the audit in MongoDB's erasure_audit when configured (in memory and logged otherwise).
    registry: createRedisErasureRegistry(redis, {
      salt: env.ERASURE_SALT ?? env.TOPIC_NAMESPACE,
      prefix: env.REDIS_PREFIX,
    }),
    erasure: {
      audit: mongoStores ? createMongoErasureAuditStore(mongoStores.db) : createMemoryErasureAuditStore(),
      salt: env.ERASURE_SALT ?? env.TOPIC_NAMESPACE,
      onAudit: (a) => log('erasure applied', { ...a }),
    },
    serde,
    reclusterer,
    clock: Date.now,
    metrics,
    onRetry,
    onError: (err) => {
      log('fatal', { error: (err as Error).stack ?? String(err) });
      void shutdown(1);
    },
  },
  cfg,
  env.ROLE,
);
// The k-means worker starts with the processor: booted lazily, its start-up landed inside the first
// re-clustering and held up the join and the fold for ~0.2 s on two cores (bench/freshness.ts).
if (topology.recluster) reclusterer.start();
// The timed jobs (app/wheel-jobs.ts): re-clustering, Qdrant's optimisation and, with MongoDB, the
// daily fine-tuning export and offline evaluation from training_examples into reports/scheduled/.
// Each job's last run, duration and result are on /metrics (sentencify_job_*).
const scheduler = createScheduler({
  jobs: wheelJobs({
    recluster: () => topology.recluster,
    // RECLUSTER_INTERVAL_MS=0 keeps re-clustering to the profile-update trigger.
    reclusterEveryMs: env.RECLUSTER_INTERVAL_MS > 0 ? env.RECLUSTER_INTERVAL_MS : Number.MAX_SAFE_INTEGER,
    index,
    examples: mongo
      ? async () => (await readLogsFromMongo(mongo, env.MONGODB_DB, { withRecommends: false })).examples
      : undefined,
    clock: Date.now,
    output: {
      dir: 'reports/scheduled',
      write: async (path, text) => {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, text);
      },
    },
  }),
  clock: Date.now,
  metrics,
  timers: globalThis,
  onError: (job, err) => log('scheduled job failed', { job, error: (err as Error).message }),
});
scheduler.start();
// A stalled sink sees no deliveries; asking the log for its ends keeps its lag honest.
const lagTimer = setInterval(() => {
  for (const s of topology.sinks) s.refreshLag().catch(() => {});
}, 5_000);
lagTimer.unref();
ready = true;
log('running', { sinks: topology.sinks.map((s) => `${s.name} (${s.group})`) });

const ops = createOpsApp({ metrics, ready: () => ({ ready, details: topology.details() }) });
const health =
  env.HEALTH_PORT > 0
    ? serve({ fetch: ops.fetch, port: env.HEALTH_PORT, hostname: '127.0.0.1' }, () =>
        log('health on', { port: env.HEALTH_PORT }),
      )
    : null;
health?.on('error', (err) => log('health server error', { error: err.message }));

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  ready = false;
  log('stopping: draining the batches in flight, committing, closing');
  const jobsStopped = scheduler.stop();
  clearInterval(lagTimer);
  const timeout = setTimeout(() => process.exit(code || 1), 15_000);
  timeout.unref();
  await topology.stop();
  await Promise.allSettled([
    jobsStopped,
    kafka.close(),
    reclusterer.close(),
    redis.quit(),
    mongo?.close(),
    es?.close(),
  ]);
  health?.close();
  log('stopped', topology.details());
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
