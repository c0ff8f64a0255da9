import { z } from 'zod';
import { envInt, serviceEnvFields } from '../common/service-env.ts';
import type { TopicNames } from '../schemas/index.ts';
import { DEFAULT_MAX_EVENT_BYTES } from './codec/session-codec.ts';
import type { TopologyConfig } from './topology.ts';

const int = envInt;

/** Environment of the stream processor (`npm run stream`), parsed once at start-up. */
export const streamEnvSchema = z.object({
  ...serviceEnvFields,
  SCHEMA_REGISTRY_URL: z.url().optional(),
  JOIN_GROUP: z.string().min(1).default('sentencify-join'),
  PROFILE_GROUP: z.string().min(1).default('sentencify-profiles'),
  WINDOW_MS: int(30 * 60_000, 1),
  GRACE_MS: int(10 * 60_000),
  /** Event time a restart re-reads before the oldest live session (default 2 × (window + grace + tombstone)). */
  REPLAY_MS: z.coerce.number().int().min(0).optional(),
  IDLE_LAG_MS: int(5_000),
  MAX_EVENT_BYTES: int(DEFAULT_MAX_EVENT_BYTES, 1024),
  MAX_BATCH: int(500, 1),
  RECLUSTER_K: int(8, 1),
  RECLUSTER_SEED: int(1),
  RECLUSTER_EVERY: int(1000),
  RECLUSTER_INTERVAL_MS: int(60_000),
  EMBEDDING_DIM: int(384, 8),
  HEALTH_PORT: int(9464),
  KAFKA_SESSION_TIMEOUT_MS: int(10_000, 6_000),
  IDLE_INTERVAL_MS: int(1_000, 10),
  ROLE: z.enum(['all', 'join', 'profiles']).default('all'),
});

export type StreamEnv = z.infer<typeof streamEnvSchema>;

export function topicNames(namespace: string): TopicNames {
  return Object.freeze({
    recommend: `${namespace}.a`,
    paraphrase: `${namespace}.b`,
    selection: `${namespace}.c`,
    trainingExamples: `${namespace}.training-examples`,
    deadLetter: `${namespace}.dead-letter`,
  });
}

export interface StreamConfig {
  readonly env: StreamEnv;
  readonly topology: TopologyConfig;
}

/** Parses the environment or throws one readable error listing every bad variable. */
export function parseStreamConfig(env: Record<string, string | undefined>): StreamConfig {
  const res = streamEnvSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = res.data;
  return Object.freeze({
    env: e,
    topology: Object.freeze({
      topics: topicNames(e.TOPIC_NAMESPACE),
      sessionPartitions: e.SESSION_PARTITIONS,
      trainingPartitions: e.TRAINING_PARTITIONS,
      joinGroup: e.JOIN_GROUP,
      profileGroup: e.PROFILE_GROUP,
      windowMs: e.WINDOW_MS,
      graceMs: e.GRACE_MS,
      replayMs: e.REPLAY_MS,
      idleLagMs: e.IDLE_LAG_MS,
      maxEventBytes: e.MAX_EVENT_BYTES,
      maxBatchSize: e.MAX_BATCH,
      recluster: { k: e.RECLUSTER_K, seed: e.RECLUSTER_SEED, everyUpdates: e.RECLUSTER_EVERY },
    }),
  });
}
