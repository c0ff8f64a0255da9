import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { readEnvFile } from '../../common/environment.ts';
import { unreachable } from '../../scripts/services/reachable.ts';

export interface Services {
  readonly ok: boolean;
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  readonly source: string;
  readonly reason?: string;
  /**
   * The stores beside Kafka and Redis, from the environment or .services.env, when they answer a
   * TCP connect; a test that needs one calls `storeUrl` (test/int/stores.ts) to skip or fail.
   */
  readonly stores: Readonly<Partial<Record<StoreVariable, string>>>;
  readonly storeProblems: Readonly<Partial<Record<StoreVariable, string>>>;
}

// EMBEDDINGS_API_BASE and LLM_API_BASE: the local models of `services:up -- --with-models` (models.int.test.ts).
export const STORE_VARIABLES = [
  'MONGODB_URL',
  'ES_URL',
  'QDRANT_URL',
  'EMBEDDINGS_API_BASE',
  'LLM_API_BASE',
] as const;
export type StoreVariable = (typeof STORE_VARIABLES)[number];

/** Whether something listens at the URL's host and port. */
async function listening(url: string): Promise<string | null> {
  const { connect } = await import('node:net');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `not a URL: ${url}`;
  }
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : u.protocol === 'mongodb:' ? 27017 : 80));
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port, timeout: 2000 });
    sock.on('connect', () => {
      sock.destroy();
      resolve(null);
    });
    sock.on('timeout', () => {
      sock.destroy();
      resolve(`${url}: no answer within 2 s`);
    });
    sock.on('error', (err) => resolve(`${url}: ${err.message}`));
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: Services;
  }
}

const ROOT = join(import.meta.dirname, '../..');

/** Testcontainers, where a Docker engine is there (a developer laptop). */
async function containers(): Promise<{ services: Services; stop: () => Promise<void> } | null> {
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
  } catch {
    return null;
  }
  const redis = await new tc.GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
  const kafka = await new tc.GenericContainer('apache/kafka:3.9.1')
    .withExposedPorts({ container: 19092, host: 19092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:19092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:19092',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(tc.Wait.forLogMessage(/Kafka Server started/))
    .start();
  // The stores, as the official images (the tests that stop a store use the local scripts and
  // skip that part's restart here: they need `npm run services:up`).
  const mongo = await new tc.GenericContainer('mongo:7')
    .withExposedPorts(27017)
    .withWaitStrategy(tc.Wait.forLogMessage(/Waiting for connections/))
    .start();
  const es = await new tc.GenericContainer('elasticsearch:8.19.21')
    .withEnvironment({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'false',
      'action.destructive_requires_name': 'false',
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
    })
    .withExposedPorts(9200)
    .withWaitStrategy(tc.Wait.forHttp('/_cluster/health?wait_for_status=yellow', 9200))
    .start();
  const qdrant = await new tc.GenericContainer('qdrant/qdrant:v1.17.0')
    .withExposedPorts(6333)
    .withWaitStrategy(tc.Wait.forHttp('/readyz', 6333))
    .start();
  const url = (c: { getHost(): string; getMappedPort(p: number): number }, scheme: string, port: number) =>
    `${scheme}://${c.getHost()}:${c.getMappedPort(port)}`;
  return {
    services: {
      ok: true,
      kafkaBrokers: '127.0.0.1:19092',
      redisUrl: url(redis, 'redis', 6379),
      source: 'testcontainers',
      stores: {
        MONGODB_URL: `${url(mongo, 'mongodb', 27017)}/`,
        ES_URL: url(es, 'http', 9200),
        QDRANT_URL: url(qdrant, 'http', 6333),
      },
      storeProblems: {},
    },
    stop: async () => {
      await Promise.allSettled([redis, kafka, mongo, es, qdrant].map((c) => c.stop()));
    },
  };
}

/**
 * One set of services per run (CONVENTIONS #13): the environment's KAFKA_BROKERS/REDIS_URL,
 * else .services.env from `npm run services:up`, else Testcontainers where Docker runs. With none,
 * the integration tier skips with the reason, except under CI=true, where that is a failure.
 */
export default async function setup(project: TestProject) {
  const file = readEnvFile(join(ROOT, '.services.env'));
  const kafkaBrokers = process.env.KAFKA_BROKERS ?? file.KAFKA_BROKERS;
  const redisUrl = process.env.REDIS_URL ?? file.REDIS_URL;
  let services: Omit<Services, 'stores' | 'storeProblems'> & Partial<Pick<Services, 'stores'>>;
  let stop = async () => {};
  if (kafkaBrokers && redisUrl) {
    const problem = await unreachable({ kafkaBrokers, redisUrl });
    services = problem
      ? { ok: false, kafkaBrokers, redisUrl, source: 'env', reason: problem }
      : {
          ok: true,
          kafkaBrokers,
          redisUrl,
          source: process.env.KAFKA_BROKERS ? 'environment' : '.services.env',
        };
  } else {
    const c = await containers();
    if (c) {
      services = c.services;
      stop = c.stop;
    } else {
      services = {
        ok: false,
        kafkaBrokers: '',
        redisUrl: '',
        source: 'none',
        reason:
          'no KAFKA_BROKERS/REDIS_URL, no .services.env (run `npm run services:up`) and no Docker engine',
      };
    }
  }
  const stores: Partial<Record<StoreVariable, string>> = { ...services.stores };
  const storeProblems: Partial<Record<StoreVariable, string>> = {};
  for (const v of STORE_VARIABLES) {
    if (stores[v]) continue;
    const url = process.env[v] ?? file[v];
    if (!url) {
      storeProblems[v] = `${v} is not set and not in .services.env (run \`npm run services:up\`)`;
      continue;
    }
    const problem = await listening(url);
    if (problem) storeProblems[v] = problem;
    else stores[v] = url;
  }
  const full: Services = { ...services, stores, storeProblems };
  if (!services.ok) {
    const msg = `integration services unavailable: ${services.reason}`;
    if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: a missing service is a failure)`);
    console.warn(`\n⚠ ${msg}; the integration tier is SKIPPED, not passed.\n`);
  } else {
    console.log(
      `integration services (${services.source}): kafka ${services.kafkaBrokers}, redis ${services.redisUrl}`,
    );
  }
  for (const [v, problem] of Object.entries(storeProblems)) console.warn(`⚠ ${v}: ${problem}`);
  project.provide('services', full);
  return stop;
}
