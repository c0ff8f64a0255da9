import OpenAI from 'openai';
import { type Embedder, EmbeddingError, type LabelledVectors } from './embedder.ts';
import { createHashingEmbedder } from './hashing-embedder.ts';

/** The part of the `openai` client this adapter calls (`client.embeddings`), so tests can hand in a twin. */
export interface EmbeddingsClient {
  create(
    body: { model: string; input: string[] },
    options?: { timeout?: number; maxRetries?: number },
  ): PromiseLike<{ data: ReadonlyArray<{ index: number; embedding: number[] | string }> }>;
}

/** The counter this adapter bumps (MetricsRegistry has it). */
export interface EmbeddingsMetrics {
  inc(name: string, help: string, labels?: Record<string, string>, by?: number): void;
}

export type FallbackReason = 'timeout' | 'error' | 'bad_response' | 'dim_mismatch' | 'cooling_down';

export interface OpenAiEmbedderOptions {
  /** Any OpenAI-compatible base URL, e.g. http://127.0.0.1:18090/v1 (the local MiniLM server). */
  readonly baseURL?: string;
  readonly apiKey: string;
  /** e.g. "all-MiniLM-L6-v2" or "text-embedding-3-small". */
  readonly model: string;
  /** The vectors' length; a response of another length is refused (falls back). */
  readonly dim: number;
  /** Texts per request (default 64). */
  readonly batchSize?: number;
  /** Per request, including the client's retries (default 10 s). */
  readonly timeoutMs?: number;
  /** The client's own retries of a failed request (default 1). */
  readonly maxRetries?: number;
  /**
   * What embeds when the endpoint fails: by default the offline hashing embedder of the same dim;
   * null to throw an EmbeddingError instead (the caller retries).
   */
  readonly fallback?: Embedder | null;
  /** After a failure, calls go straight to the fallback for this long before trying again (default 30 s). */
  readonly retryAfterMs?: number;
  readonly metrics?: EmbeddingsMetrics;
  /** Told once each time the adapter falls back (not for every call while it cools down). */
  readonly onFallback?: (e: { reason: FallbackReason; error: unknown; texts: number }) => void;
  readonly clock?: () => number;
  /** A twin of `client.embeddings` for tests; by default an `openai` client over baseURL. */
  readonly client?: EmbeddingsClient;
}

const REQUESTS = 'embeddings_requests_total';
const REQUESTS_HELP = 'Requests to the embeddings endpoint, by outcome';
const FALLBACK = 'embeddings_fallback_texts_total';
const FALLBACK_HELP =
  'Texts embedded by the offline fallback because the embeddings endpoint failed, by reason';

function reasonOf(err: unknown): FallbackReason {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return 'timeout';
  if (err instanceof EmbeddingError) {
    return err.code === 'embeddings_dim_mismatch'
      ? 'dim_mismatch'
      : err.code === 'embeddings_bad_response'
        ? 'bad_response'
        : err.code === 'embeddings_timeout'
          ? 'timeout'
          : 'error';
  }
  return 'error';
}

/** A vector from the wire: numbers, or base64 little-endian float32 when a client passes it through undecoded. */
function toVector(e: number[] | string): Float32Array {
  if (typeof e !== 'string') return Float32Array.from(e);
  const buf = Buffer.from(e, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` (the local all-MiniLM-L6-v2 server of
 * `npm run services:up -- --with-models`, OpenAI, vLLM, …) in batches, with a timeout, and a
 * labelled fallback: when the endpoint fails or times out, the call's texts are embedded by the
 * offline hashing embedder, `model` reads "offline-hash-ngram-v1 (fallback from <model>)" and
 * `offline` true until the endpoint answers again, and embeddings_fallback_texts_total counts them.
 * The two kinds of vectors do not compare with each other: a fallback keeps the wheel running, it
 * does not make its vectors good, and every label says which is which.
 *
 * @example
 * const embedder = createOpenAiEmbedder({ baseURL: 'http://127.0.0.1:18090/v1', apiKey: 'not-needed',
 *   model: 'all-MiniLM-L6-v2', dim: 384, metrics });
 * const [v] = await embedder.embed(['The meeting moved to Friday.']);
 */
export function createOpenAiEmbedder(o: OpenAiEmbedderOptions): Embedder & {
  embedLabelled(texts: readonly string[]): Promise<LabelledVectors>;
} {
  const batchSize = Math.max(1, o.batchSize ?? 64);
  const timeout = o.timeoutMs ?? 10_000;
  const maxRetries = o.maxRetries ?? 1;
  const retryAfterMs = o.retryAfterMs ?? 30_000;
  const clock = o.clock ?? Date.now;
  const fallback = o.fallback === undefined ? createHashingEmbedder(o.dim) : o.fallback;
  if (fallback && fallback.dim !== o.dim) {
    throw new Error(`the fallback embedder has ${fallback.dim} dimensions, the model ${o.dim}`);
  }
  const client: EmbeddingsClient =
    o.client ?? new OpenAI({ apiKey: o.apiKey, baseURL: o.baseURL, timeout, maxRetries }).embeddings;
  const where = o.baseURL ?? 'the OpenAI API';
  const fallbackModel = fallback ? `${fallback.model} (fallback from ${o.model})` : o.model;
  let degradedUntil = 0;

  const count = (name: string, help: string, labels: Record<string, string>, by = 1) =>
    o.metrics?.inc(name, help, { model: o.model, ...labels }, by);

  async function request(batch: string[]): Promise<Float32Array[]> {
    let res: Awaited<ReturnType<EmbeddingsClient['create']>>;
    try {
      res = await client.create({ model: o.model, input: batch }, { timeout, maxRetries });
    } catch (err) {
      const isTimeout = err instanceof OpenAI.APIConnectionTimeoutError;
      count(REQUESTS, REQUESTS_HELP, { outcome: isTimeout ? 'timeout' : 'error' });
      throw new EmbeddingError(
        isTimeout ? 'embeddings_timeout' : 'embeddings_failed',
        `the embeddings endpoint (${where}, ${o.model}) failed: ${(err as Error).message}`,
        true,
        err,
      );
    }
    const data = [...(res?.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.length !== batch.length) {
      count(REQUESTS, REQUESTS_HELP, { outcome: 'error' });
      throw new EmbeddingError(
        'embeddings_bad_response',
        `the embeddings endpoint (${where}, ${o.model}) returned ${data.length} vectors for ${batch.length} texts`,
        true,
      );
    }
    const vectors = data.map((d) => toVector(d.embedding));
    const bad = vectors.find((v) => v.length !== o.dim);
    if (bad) {
      count(REQUESTS, REQUESTS_HELP, { outcome: 'error' });
      throw new EmbeddingError(
        'embeddings_dim_mismatch',
        `${o.model} at ${where} gives ${bad.length}-dimensional vectors, EMBEDDING_DIM is ${o.dim}`,
        false,
      );
    }
    count(REQUESTS, REQUESTS_HELP, { outcome: 'ok' });
    return vectors;
  }

  async function embedLabelled(texts: readonly string[]): Promise<LabelledVectors> {
    if (texts.length === 0) return { vectors: [], model: o.model, offline: false, fallback: false };
    if (fallback && clock() < degradedUntil) {
      count(FALLBACK, FALLBACK_HELP, { reason: 'cooling_down' }, texts.length);
      return { vectors: await fallback.embed(texts), model: fallbackModel, offline: true, fallback: true };
    }
    const out: Float32Array[] = [];
    try {
      for (let i = 0; i < texts.length; i += batchSize) {
        out.push(...(await request(texts.slice(i, i + batchSize))));
      }
    } catch (err) {
      if (!fallback) throw err;
      const reason = reasonOf(err);
      degradedUntil = clock() + retryAfterMs;
      count(FALLBACK, FALLBACK_HELP, { reason }, texts.length);
      o.onFallback?.({ reason, error: err, texts: texts.length });
      // The whole call from the fallback: one call's vectors all come from one model.
      return { vectors: await fallback.embed(texts), model: fallbackModel, offline: true, fallback: true };
    }
    degradedUntil = 0;
    return { vectors: out, model: o.model, offline: false, fallback: false };
  }

  return {
    get model() {
      return fallback && clock() < degradedUntil ? fallbackModel : o.model;
    },
    dim: o.dim,
    get offline() {
      return Boolean(fallback) && clock() < degradedUntil;
    },
    embedLabelled,
    embed: async (texts) => (await embedLabelled(texts)).vectors,
  };
}
