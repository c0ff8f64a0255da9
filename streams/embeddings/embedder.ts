/** The embeddings port: text in, unit vectors out. Adapters: offline hashing (default), OpenAI-compatible. */
export interface Embedder {
  /** Model name as written next to every vector, e.g. "offline-hash-ngram-v1". */
  readonly model: string;
  readonly dim: number;
  /** True for the deterministic offline fallback, so outputs can say so. */
  readonly offline: boolean;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
