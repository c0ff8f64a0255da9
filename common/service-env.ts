import { z } from 'zod';

/** An integer variable with a default and a lower bound, from its string form. */
export const envInt = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/**
 * The variables every process on the real services reads alike (the stream processor and the API):
 * where Kafka and Redis are and the namespace of topics and keys. Spread into each process's schema.
 */
export const serviceEnvFields = {
  KAFKA_BROKERS: z
    .string({
      error: 'KAFKA_BROKERS is required, e.g. 127.0.0.1:19092 (npm run services:up writes .services.env)',
    })
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  REDIS_URL: z
    .string({ error: 'REDIS_URL is required, e.g. redis://127.0.0.1:16379' })
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
  TOPIC_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('sentencify'),
  SESSION_PARTITIONS: envInt(6, 1),
  TRAINING_PARTITIONS: envInt(6, 1),
  REDIS_PREFIX: z.string().default(''),
  /**
   * The vector index behind P_vec. Without it each API process keeps its own in-process index fed
   * from H; with it the stream processor's index sink writes Qdrant and every API reads it.
   */
  QDRANT_URL: z.url().optional(),
  QDRANT_API_KEY: z.string().optional(),
  /** Default `<TOPIC_NAMESPACE>_contexts_h`. */
  QDRANT_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
};

/**
 * The environment with blank variables removed: `GRACE_MS= npm run stream` means the default, not
 * 0 (which `z.coerce.number()` would make of an empty string). Every process parses through this.
 */
export function withoutBlanks(raw: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== ''),
  );
}

/** Each issue of a failed parse as one `  VARIABLE: message` line. */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
}

/** A comma-separated list of names from `allowed` (or `all`). */
export const envList = <T extends string>(allowed: readonly T[], def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const names = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (names.length === 1 && names[0] === 'all') return [...allowed];
      for (const n of names)
        if (!allowed.includes(n as T))
          ctx.addIssue({
            code: 'custom',
            message: `unknown name ${n}: takes all or any of ${allowed.join(', ')}`,
          });
      return names as T[];
    });
