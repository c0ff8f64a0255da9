import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { envInt, issueLines, serviceEnvFields, withoutBlanks } from '../common/service-env.ts';
import type { TopicNames } from '../schemas/index.ts';
import { topicNames } from '../schemas/index.ts';
import type { ApiSecurity } from './app.ts';
import { securityEnvFields, securityFromEnv } from './auth/security-config.ts';
import { DEFAULT_SCORING_CONFIG, type ScoringConfig, validateScoringConfig } from './scoring/index.ts';

const int = envInt;
const share = (def: number) => z.coerce.number().min(0).max(1).default(def);

/** Environment of the API process (`npm run api`), parsed once at start-up. */
export const apiEnvSchema = z.object({
  ...serviceEnvFields,
  // API keys, rate limits, CORS, size limits (api/auth/security-config.ts, README: Security).
  ...securityEnvFields,
  /** Redis commands fail after this long, so /recommend answers degraded instead of hanging. */
  REDIS_COMMAND_TIMEOUT_MS: int(300, 10),
  PORT: int(8080).pipe(z.number().max(65_535)),
  HOST: z.string().min(1).default('127.0.0.1'),
  ALPHA: share(DEFAULT_SCORING_CONFIG.alpha),
  BETA: share(DEFAULT_SCORING_CONFIG.beta),
  EPSILON: share(DEFAULT_SCORING_CONFIG.epsilon),
  PERSONALISED: z.stringbool().default(true),
  /** Must equal the stream processor's: profiles hold per-option mean contexts of this size. */
  EMBEDDING_DIM: int(384, 8),
  /** Deadline of one nearest-contexts search in Qdrant; past it /recommend answers without P_vec, degraded. */
  QDRANT_TIMEOUT_MS: int(250, 10),
  /** Nearest past contexts read for P_vec. */
  NEIGHBOURS: int(20, 1).pipe(z.number().max(200)),
  /** Prefix of this instance's consumer group on H (the index feeder); pid and a random suffix follow. */
  INDEX_GROUP_PREFIX: z.string().min(1).optional(),
  KAFKA_SESSION_TIMEOUT_MS: int(10_000, 6_000),
  IDLE_INTERVAL_MS: int(1_000, 10),
  /** An event the log has not acknowledged by then fails the request's emit (Kafka unreachable). */
  EVENT_TIMEOUT_MS: int(2_000, 50),
  /** Longest a SIGTERM waits for requests in flight before closing their connections. */
  DRAIN_TIMEOUT_MS: int(10_000),
  /**
   * API processes sharing the port (node:cluster; each one a whole API with its own index feeder).
   * Node serves on one thread, so one per core is how a machine's cores are used.
   */
  API_WORKERS: int(1, 1).pipe(z.number().max(64)),
  // LLM variant A (control) and B (the new model); OpenAI or any OpenAI-compatible endpoint.
  LLM_API_BASE: z.url().optional(),
  LLM_API_KEY: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LLM_API_BASE_NEW_MODEL: z.url().optional(),
  /** Key of variant B's endpoint when it differs from variant A's. */
  LLM_API_KEY_NEW_MODEL: z.string().optional(),
  LLM_MODEL_NEW: z.string().min(1).optional(),
  AB_SHARE_B: z.coerce.number().min(0).max(1).optional(),
  AB_SALT: z.string().min(1).default('ab-1'),
  LLM_TIMEOUT_MS: int(15_000, 100),
  // Sessions, idempotent writes, read-your-writes (README: Sessions and idempotency).
  /** How long a session is remembered (owner, selection); far longer than the join's window + grace. */
  SESSION_TTL_MS: int(24 * 3600_000, 60_000),
  /** How long the first answer of an Idempotency-Key is kept. */
  IDEMPOTENCY_TTL_MS: int(24 * 3600_000, 60_000),
  /** The longest /recommend waits for min_profile_version / as_of. */
  READ_YOUR_WRITES_MAX_WAIT_MS: int(1_500, 0).pipe(z.number().max(30_000)),
  READ_YOUR_WRITES_POLL_MS: int(50, 5),
});

export type ApiEnv = z.infer<typeof apiEnvSchema>;

/** One paraphrase endpoint, or null: that variant runs the offline paraphraser (labelled offline). */
export interface LlmEndpoint {
  /** Undefined: OpenAI's default base URL. */
  readonly baseURL: string | undefined;
  readonly apiKey: string;
  readonly model: string;
}

export interface ApiConfig {
  readonly env: ApiEnv;
  readonly topics: TopicNames;
  readonly scoring: ScoringConfig;
  /** Keys (or AUTH=off), rate limits, CORS, size limits. */
  readonly security: ApiSecurity;
  readonly llm: {
    readonly a: LlmEndpoint | null;
    /** Absent: there is no experiment, every user is in A. */
    readonly b?: { readonly endpoint: LlmEndpoint | null; readonly share: number };
    readonly salt: string;
    readonly timeoutMs: number;
  };
}

/**
 * A local OpenAI-compatible server (LM Studio, vLLM, Ollama) takes any key, and the `openai`
 * client refuses to start without one: a base URL alone is a complete endpoint.
 */
const NO_KEY = 'not-needed';

function endpoint(base: string | undefined, key: string | undefined, model: string): LlmEndpoint | null {
  if (!base && !key) return null;
  return { baseURL: base, apiKey: key ?? NO_KEY, model };
}

/**
 * Parses the environment or throws one readable error listing every bad variable.
 *
 * Variant A calls LLM_API_BASE (or OpenAI's default base when only LLM_API_KEY / OPENAI_API_KEY is
 * set) with LLM_MODEL. Variant B exists when LLM_API_BASE_NEW_MODEL, LLM_MODEL_NEW or AB_SHARE_B is
 * set; it calls LLM_API_BASE_NEW_MODEL (else A's base) with LLM_MODEL_NEW (else LLM_MODEL) and takes
 * AB_SHARE_B of the users (default 0.5). A variant with neither endpoint nor key is offline.
 *
 * @example
 * const cfg = parseApiConfig({ KAFKA_BROKERS: '127.0.0.1:19092', REDIS_URL: 'redis://127.0.0.1:16379' });
 * cfg.env.PORT; // 8080
 */
export function parseApiConfig(
  raw: Record<string, string | undefined>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ApiConfig {
  const env = withoutBlanks(raw);
  const res = apiEnvSchema.safeParse(env);
  const problems = res.success ? [] : issueLines(res.error);
  // Checked on its own, so that it is reported next to any other bad variable.
  const weights = apiEnvSchema.pick({ ALPHA: true, BETA: true }).safeParse(env);
  if (weights.success && weights.data.ALPHA + weights.data.BETA > 1) {
    problems.push(`  ALPHA + BETA: must be <= 1, got ${weights.data.ALPHA} + ${weights.data.BETA}`);
  }
  // Reported next to a bad ALPHA + BETA; it needs the rest parsed (the file, the limits).
  let security: ApiSecurity | undefined;
  if (res.success) {
    try {
      security = securityFromEnv(res.data, { openWithoutKeys: false, readFile });
    } catch (err) {
      problems.push(`  ${(err as Error).message}`);
    }
  }
  if (!res.success || problems.length > 0 || !security)
    throw new Error(`invalid configuration:\n${problems.join('\n')}`);
  const e = res.data;
  const scoring: ScoringConfig = Object.freeze({
    ...DEFAULT_SCORING_CONFIG,
    alpha: e.ALPHA,
    beta: e.BETA,
    epsilon: e.EPSILON,
  });
  validateScoringConfig(scoring);

  const key = e.LLM_API_KEY ?? e.OPENAI_API_KEY;
  const a = endpoint(e.LLM_API_BASE, key, e.LLM_MODEL);
  const hasB =
    e.LLM_API_BASE_NEW_MODEL !== undefined || e.LLM_MODEL_NEW !== undefined || e.AB_SHARE_B !== undefined;
  const b = hasB
    ? {
        endpoint: endpoint(
          e.LLM_API_BASE_NEW_MODEL ?? e.LLM_API_BASE,
          e.LLM_API_KEY_NEW_MODEL ?? key,
          e.LLM_MODEL_NEW ?? e.LLM_MODEL,
        ),
        share: e.AB_SHARE_B ?? 0.5,
      }
    : undefined;
  return Object.freeze({
    env: e,
    topics: topicNames(e.TOPIC_NAMESPACE),
    scoring,
    security,
    llm: Object.freeze({ a, b, salt: e.AB_SALT, timeoutMs: e.LLM_TIMEOUT_MS }),
  });
}

/** What a log line may say about an endpoint: never its key. */
export function describeEndpoint(ep: LlmEndpoint | null): string {
  return ep ? `${ep.baseURL ?? 'https://api.openai.com/v1'} (${ep.model})` : 'offline paraphraser';
}
