/**
 * The stream processor against real services: `npm run stream`. Composition root: the only place
 * that reads the environment, creates clients, builds the topology (`startTopology`, the same
 * wiring as `npm start` and `npm run api`) and handles SIGTERM/SIGINT.
 */
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { environment, logLine as log } from '../common/environment.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { createOpsApp } from '../common/ops-app.ts';
import { createWorkerReclusterer } from './clustering/worker-reclusterer.ts';
import { createRegistrySerde, type EventSerde, jsonSerde, registrySubjects } from './codec/serde.ts';
import { parseStreamConfig } from './config.ts';
import { createHashingEmbedder } from './embeddings/hashing-embedder.ts';
import { createKafkaLog } from './log/kafka-log.ts';
import { createRedisClusterStore, createRedisProfileStore } from './stores/redis-stores.ts';
import { topicSpecs } from './topology-config.ts';
import { startTopology } from './wiring.ts';

let config: ReturnType<typeof parseStreamConfig>;
try {
  config = parseStreamConfig(environment());
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
const embedder = createHashingEmbedder(env.EMBEDDING_DIM);
const metrics = new MetricsRegistry();
let ready = false;

log('starting', {
  roles: env.ROLE,
  brokers: env.KAFKA_BROKERS,
  topics: cfg.topics,
  embedder: embedder.model,
  serde: serde.name,
  offline_embeddings: embedder.offline,
});
await kafka.ensureTopics(topicSpecs(cfg));
const topology = startTopology(
  {
    log: kafka,
    profiles: createRedisProfileStore(redis, { prefix: env.REDIS_PREFIX }),
    clusters: createRedisClusterStore(redis, { prefix: env.REDIS_PREFIX }),
    embedder,
    serde,
    reclusterer,
    clock: Date.now,
    metrics,
    onRetry: (what, err, attempt) => log('retrying', { what, attempt, error: (err as Error).message }),
    onError: (err) => {
      log('fatal', { error: (err as Error).stack ?? String(err) });
      void shutdown(1);
    },
  },
  cfg,
  env.ROLE,
);
const reclusterTimer =
  topology.recluster && env.RECLUSTER_INTERVAL_MS > 0
    ? setInterval(() => {
        topology.recluster!.now().catch((err) => log('recluster failed', { error: (err as Error).message }));
      }, env.RECLUSTER_INTERVAL_MS)
    : null;
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
  if (reclusterTimer) clearInterval(reclusterTimer);
  clearInterval(lagTimer);
  const timeout = setTimeout(() => process.exit(code || 1), 15_000);
  timeout.unref();
  await topology.stop();
  await Promise.allSettled([kafka.close(), reclusterer.close(), redis.quit()]);
  health?.close();
  log('stopped', topology.details());
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
