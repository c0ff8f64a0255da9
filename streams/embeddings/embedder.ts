/** The embeddings port: text in, unit vectors out. Adapters: offline hashing (default), OpenAI-compatible. */
export interface Embedder {
  /**
   * Model name as written next to every vector, e.g. "offline-hash-ngram-v1". An adapter with a
   * fallback reports what it embeds with right now (e.g. "offline-hash-ngram-v1 (fallback from
   * all-MiniLM-L6-v2)") while it is degraded.
   */
  readonly model: string;
  readonly dim: number;
  /** True for the deterministic offline embedder (also while an adapter has fallen back to it), so outputs can say so. */
  readonly offline: boolean;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /**
   * Optional: the vectors with the label of what made them — `fallback` when the adapter could not
   * reach its model and used the offline embedder for this call. A cache keeps only real vectors.
   */
  embedLabelled?(texts: readonly string[]): Promise<LabelledVectors>;
}

export interface LabelledVectors {
  readonly vectors: Float32Array[];
  readonly model: string;
  readonly offline: boolean;
  readonly fallback: boolean;
}

/** Thrown by an embeddings adapter without a fallback; `retriable` when a later try may succeed. */
export class EmbeddingError extends Error {
  override readonly name = 'EmbeddingError';
  constructor(
    readonly code:
      | 'embeddings_timeout'
      | 'embeddings_failed'
      | 'embeddings_bad_response'
      | 'embeddings_dim_mismatch',
    message: string,
    readonly retriable: boolean,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
