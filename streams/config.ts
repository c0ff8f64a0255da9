import { z } from 'zod';
import { envInt, envList, issueLines, serviceEnvFields, withoutBlanks } from '../common/service-env.ts';
import { topicNames } from '../schemas/index.ts';
import { DEFAULT_TOPOLOGY_CONFIG as D, type TopologyConfig } from './topology-config.ts';
import { ROLES } from './wiring.ts';

const int = envInt;

/** Environment of the stream processor (`npm run stream`), parsed once at start-up. */
export const streamEnvSchema = z.object({
  ...serviceEnvFields,
  SCHEMA_REGISTRY_URL: z.url().optional(),
  /** Default `<TOPIC_NAMESPACE>-join`: a namespace has groups of its own. */
  JOIN_GROUP: z.string().min(1).optional(),
  /** Default `<TOPIC_NAMESPACE>-profiles`. */
  PROFILE_GROUP: z.string().min(1).optional(),
  /** The other sinks' groups are `<GROUP_PREFIX>-<sink>` (default prefix: TOPIC_NAMESPACE). */
  GROUP_PREFIX: z.string().min(1).optional(),
  WINDOW_MS: int(D.windowMs, 1),
  GRACE_MS: int(D.graceMs),
  /** Event time a restart re-reads before the oldest live session (default 2 × (window + grace + tombstone)). */
  REPLAY_MS: z.coerce.number().int().min(0).optional(),
  IDLE_LAG_MS: int(D.idleLagMs),
  MAX_EVENT_BYTES: int(D.maxEventBytes, 1024),
  MAX_BATCH: int(D.maxBatchSize, 1),
  COMMIT_INTERVAL_MS: int(D.commitIntervalMs),
  MAX_SENDS_IN_FLIGHT: int(D.maxSendsInFlight, 1),
  RECLUSTER_K: int(D.recluster.k, 1),
  RECLUSTER_SEED: int(D.recluster.seed),
  RECLUSTER_EVERY: int(D.recluster.everyUpdates),
  RECLUSTER_INTERVAL_MS: int(60_000),
  EMBEDDING_DIM: int(384, 8),
  /** The raw archive and `training_examples` (MongoDB or Atlas); without it they have no sink here. */
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URL')
    .optional(),
  MONGODB_DB: z.string().min(1).default('sentencify'),
  /** `majority` (default), a number of nodes, or a tag, optionally `,j` for journaled. */
  MONGODB_WRITE_CONCERN: z.string().min(1).default('majority'),
  /** The golden indices for Kibana; without it they have no sink here. */
  ES_URL: z.url().optional(),
  /** Wins over ES_USERNAME/ES_PASSWORD. */
  ES_API_KEY: z.string().optional(),
  ES_USERNAME: z.string().optional(),
  ES_PASSWORD: z.string().optional(),
  /** PEM of the CA that signed the cluster's certificate. */
  ES_CA_FILE: z.string().optional(),
  ES_INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/)
    .default('sentencify-golden-'),
  /** Deadline of one Qdrant call of the index sink (it backs off and retries after). */
  QDRANT_TIMEOUT_MS: int(10_000, 100),
  HEALTH_PORT: int(9464),
  KAFKA_SESSION_TIMEOUT_MS: int(10_000, 6_000),
  IDLE_INTERVAL_MS: int(1_000, 10),
  /**
   * What this process runs: `all`, or a comma-separated list of join, profiles and the sinks of
   * the stores that are configured. Processes with the same roles share the work by group.
   */
  ROLE: envList(ROLES, 'all'),
  /**
   * Salt of the erased-users registry's hash (default TOPIC_NAMESPACE). Every process of a
   * namespace must use the same one; changing it forgets who was erased.
   */
  ERASURE_SALT: z.string().min(1).optional(),
});

export type StreamEnv = z.infer<typeof streamEnvSchema>;

export interface StreamConfig {
  readonly env: StreamEnv;
  readonly topology: TopologyConfig;
}

/** Parses the environment or throws one readable error listing every bad variable. */
export function parseStreamConfig(env: Record<string, string | undefined>): StreamConfig {
  const res = streamEnvSchema.safeParse(withoutBlanks(env));
  if (!res.success) throw new Error(`invalid configuration:\n${issueLines(res.error).join('\n')}`);
  const e = res.data;
  return Object.freeze({
    env: e,
    topology: Object.freeze({
      topics: topicNames(e.TOPIC_NAMESPACE),
      sessionPartitions: e.SESSION_PARTITIONS,
      trainingPartitions: e.TRAINING_PARTITIONS,
      joinGroup: e.JOIN_GROUP ?? `${e.TOPIC_NAMESPACE}-join`,
      profileGroup: e.PROFILE_GROUP ?? `${e.TOPIC_NAMESPACE}-profiles`,
      groupPrefix: e.GROUP_PREFIX ?? e.TOPIC_NAMESPACE,
      windowMs: e.WINDOW_MS,
      graceMs: e.GRACE_MS,
      replayMs: e.REPLAY_MS,
      idleLagMs: e.IDLE_LAG_MS,
      maxEventBytes: e.MAX_EVENT_BYTES,
      maxBatchSize: e.MAX_BATCH,
      commitIntervalMs: e.COMMIT_INTERVAL_MS,
      maxSendsInFlight: e.MAX_SENDS_IN_FLIGHT,
      recluster: { k: e.RECLUSTER_K, seed: e.RECLUSTER_SEED, everyUpdates: e.RECLUSTER_EVERY },
    }),
  });
}
