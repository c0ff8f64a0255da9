import { z } from 'zod';
import { envInt, issueLines, withoutBlanks } from '../../common/service-env.ts';
import { createCachingEmbedder } from './caching-embedder.ts';
import type { Embedder } from './embedder.ts';
import { createHashingEmbedder } from './hashing-embedder.ts';
import { createOpenAiEmbedder, type EmbeddingsMetrics } from './openai-embedder.ts';

/** A local OpenAI-compatible server takes any key; the `openai` client wants one. */
const NO_KEY = 'not-needed';

/**
 * The embeddings variables every composition root reads alike. Without EMBEDDINGS_API_BASE (and
 * without EMBEDDINGS_API_KEY) the offline hashing embedder is used; with it, the OpenAI-compatible
 * endpoint, falling back to the hashing embedder (labelled) when it fails.
 */
export const embeddingsEnvSchema = z.object({
  /** e.g. http://127.0.0.1:18090/v1 (written to .services.env by `services:up -- --with-models`). */
  EMBEDDINGS_API_BASE: z.url().optional(),
  EMBEDDINGS_API_KEY: z.string().optional(),
  EMBEDDINGS_MODEL: z.string().min(1).default('all-MiniLM-L6-v2'),
  EMBEDDINGS_BATCH_SIZE: envInt(64, 1),
  EMBEDDINGS_TIMEOUT_MS: envInt(10_000, 100),
  /** How long calls go straight to the fallback after a failure before the endpoint is tried again. */
  EMBEDDINGS_RETRY_AFTER_MS: envInt(30_000, 0),
  /** Texts kept by the LRU the profile and index sinks share (0: no cache). */
  EMBEDDINGS_CACHE_ENTRIES: envInt(4096, 0),
});
export type EmbeddingsEnv = z.infer<typeof embeddingsEnvSchema>;

export interface EmbedderFromEnvOptions {
  readonly dim: number;
  readonly metrics?: EmbeddingsMetrics;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** Parses the embeddings variables or throws one readable error listing every bad one. */
export function parseEmbeddingsEnv(raw: Record<string, string | undefined>): EmbeddingsEnv {
  const res = embeddingsEnvSchema.safeParse(withoutBlanks(raw));
  if (!res.success) throw new Error(`invalid configuration:\n${issueLines(res.error).join('\n')}`);
  return res.data;
}

/**
 * The embedder a process uses, chosen by its environment (handed in by the composition root).
 *
 * @example
 * const embedder = embedderFromEnv(environment(), { dim: env.EMBEDDING_DIM, metrics, log });
 * embedder.model; // "all-MiniLM-L6-v2", or "offline-hash-ngram-v1" without EMBEDDINGS_API_BASE
 */
export function embedderFromEnv(
  raw: Record<string, string | undefined>,
  o: EmbedderFromEnvOptions,
): Embedder {
  const e = parseEmbeddingsEnv(raw);
  if (!e.EMBEDDINGS_API_BASE && !e.EMBEDDINGS_API_KEY) return createHashingEmbedder(o.dim);
  const remote = createOpenAiEmbedder({
    baseURL: e.EMBEDDINGS_API_BASE,
    apiKey: e.EMBEDDINGS_API_KEY ?? NO_KEY,
    model: e.EMBEDDINGS_MODEL,
    dim: o.dim,
    batchSize: e.EMBEDDINGS_BATCH_SIZE,
    timeoutMs: e.EMBEDDINGS_TIMEOUT_MS,
    retryAfterMs: e.EMBEDDINGS_RETRY_AFTER_MS,
    metrics: o.metrics,
    onFallback: ({ reason, error, texts }) =>
      o.log?.('embeddings fallback', {
        model: e.EMBEDDINGS_MODEL,
        reason,
        texts,
        error: (error as Error).message,
        retry_after_ms: e.EMBEDDINGS_RETRY_AFTER_MS,
      }),
  });
  return e.EMBEDDINGS_CACHE_ENTRIES > 0
    ? createCachingEmbedder(remote, { maxEntries: e.EMBEDDINGS_CACHE_ENTRIES })
    : remote;
}

export type EmbedderChoice = 'hashing' | 'openai';

/**
 * The embedder a CLI flag (`--embedder hashing|openai`) names. `openai` needs EMBEDDINGS_API_BASE
 * (or EMBEDDINGS_API_KEY for OpenAI itself) and, unlike a service, has no fallback: an evaluation
 * whose vectors silently came from two models would measure neither.
 *
 * @example
 * const embedder = embedderForChoice('openai', environment(), { dim: 384 });
 */
export function embedderForChoice(
  choice: EmbedderChoice,
  raw: Record<string, string | undefined>,
  o: { readonly dim: number; readonly timeoutMs?: number },
): Embedder {
  if (choice === 'hashing') return createHashingEmbedder(o.dim);
  const e = parseEmbeddingsEnv(raw);
  if (!e.EMBEDDINGS_API_BASE && !e.EMBEDDINGS_API_KEY) {
    throw new Error(
      'EMBEDDINGS_API_BASE is not set (`npm run services:up -- --with-models` writes it to .services.env)',
    );
  }
  const remote = createOpenAiEmbedder({
    baseURL: e.EMBEDDINGS_API_BASE,
    apiKey: e.EMBEDDINGS_API_KEY ?? NO_KEY,
    model: e.EMBEDDINGS_MODEL,
    dim: o.dim,
    batchSize: e.EMBEDDINGS_BATCH_SIZE,
    timeoutMs: o.timeoutMs ?? Math.max(e.EMBEDDINGS_TIMEOUT_MS, 60_000),
    fallback: null,
  });
  return createCachingEmbedder(remote, { maxEntries: Math.max(e.EMBEDDINGS_CACHE_ENTRIES, 1) });
}
