/**
 * The stream processor against real services: `npm run stream`. Composition root: the only place
 * that reads the environment, creates clients, wires the topology and handles SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { environment, logLine } from '../common/environment.ts';
import { createWorkerReclusterer } from './clustering/worker-reclusterer.ts';
import { createRegistrySerde, type EventSerde, jsonSerde, registrySubjects } from './codec/serde.ts';
import { parseStreamConfig } from './config.ts';
import { createHashingEmbedder } from './embeddings/hashing-embedder.ts';
import { createKafkaLog } from './log/kafka-log.ts';
import { createRedisClusterStore, createRedisProfileStore } from './stores/redis-stores.ts';
import {
  type JoinStats,
  type Running,
  startJoinProcessor,
  startProfileProcessor,
  topicSpecs,
} from './topology.ts';

const log = logLine;

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
const profiles = createRedisProfileStore(redis, { prefix: env.REDIS_PREFIX });
const clusters = createRedisClusterStore(redis, { prefix: env.REDIS_PREFIX });
const reclusterer = createWorkerReclusterer();
const embedder = createHashingEmbedder(env.EMBEDDING_DIM);
let ready = false;
let retries = 0;
const deps = {
  log: kafka,
  profiles,
  clusters,
  embedder,
  clock: Date.now,
  reclusterer,
  serde,
  onRetry: (what: string, err: unknown, attempt: number) => {
    retries++;
    log('retrying', { what, attempt, error: (err as Error).message });
  },
  onError: (err: unknown) => {
    log('fatal', { error: (err as Error).stack ?? String(err) });
    void shutdown(1);
  },
};

log('starting', {
  role: env.ROLE,
  brokers: env.KAFKA_BROKERS,
  topics: cfg.topics,
  embedder: embedder.model,
  serde: serde.name,
  offline_embeddings: embedder.offline,
});
await kafka.ensureTopics(topicSpecs(cfg));
const join: Running<JoinStats> | null = env.ROLE === 'profiles' ? null : startJoinProcessor(deps, cfg);
const prof = env.ROLE === 'join' ? null : startProfileProcessor(deps, cfg);
const reclusterTimer =
  prof && env.RECLUSTER_INTERVAL_MS > 0
    ? setInterval(() => {
        prof.reclusterNow().catch((err) => log('recluster failed', { error: (err as Error).message }));
      }, env.RECLUSTER_INTERVAL_MS)
    : null;
ready = true;
log('running');

function metrics(): string {
  const lines: string[] = [];
  const m = (name: string, help: string, value: number, labels = '') => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}${labels} ${value}`);
  };
  if (join) {
    m('sentencify_join_records_total', 'A/B/C records read by the session join', join.stats.records);
    m('sentencify_join_examples_total', 'Training examples (H, all revisions) produced', join.stats.examples);
    m('sentencify_dead_letters_total', 'Events sent to the dead-letter topic', join.stats.deadLetters);
    for (const [code, n] of Object.entries(join.stats.deadLettersByCode)) {
      lines.push(`sentencify_dead_letters_by_code_total{code="${code}"} ${n}`);
    }
  }
  if (prof) {
    m('sentencify_profile_examples_total', 'Training examples folded into profiles', prof.stats.examples);
    m('sentencify_profile_writes_total', 'Profile writes to the store', prof.stats.profileWrites);
    m('sentencify_reclusters_total', 'Completed re-clusterings', prof.stats.reclusters);
  }
  m('sentencify_io_retries_total', 'Failed I/O calls that were retried', retries);
  return `${lines.join('\n')}\n`;
}

const health = createServer((req, res) => {
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/health') return json(200, { status: 'ok' });
  if (req.url === '/ready')
    return json(ready ? 200 : 503, { ready, join: join?.stats, profiles: prof?.stats });
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    return res.end(metrics());
  }
  json(404, { error: 'not found' });
});
if (env.HEALTH_PORT > 0) {
  health.listen(env.HEALTH_PORT, '127.0.0.1', () => log('health on', { port: env.HEALTH_PORT }));
  health.on('error', (err) => log('health server error', { error: err.message }));
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  ready = false;
  log('stopping: draining the batch in flight, committing, closing');
  if (reclusterTimer) clearInterval(reclusterTimer);
  const timeout = setTimeout(() => process.exit(code || 1), 15_000);
  timeout.unref();
  await Promise.allSettled([join?.stop(), prof?.stop()]);
  await Promise.allSettled([kafka.close(), reclusterer.close(), redis.quit()]);
  health.close();
  log('stopped', { join: join?.stats, profiles: prof?.stats });
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
