import type { Consistency, Intensity } from '../../schemas/index.ts';

/**
 * What is stored next to a past context in the vector index (E in DESIGN §2): enough for scoring
 * (`option_key`, `language`) and for explaining a neighbour, and nothing that needs a join.
 */
export interface ContextPayload {
  /** `category:intensity` the session ended with; null for a free style request. */
  readonly option_key: string | null;
  readonly category: string | null;
  readonly intensity: Intensity | null;
  /** The free style request ("정중하게") when the session used one instead of an option. */
  readonly style_request: string | null;
  readonly language: string;
  /** Null for pool imports that have no user. */
  readonly user_id: string | null;
  readonly consistency: Consistency;
  /** The H `event_id` (`h:<session>:<revision>`) the point was built from. */
  readonly example_id: string;
  /** Event time of that example. */
  readonly ts: string;
}

export interface VectorPoint {
  /**
   * The recommend session id: a session has one point, whatever its revision. (Qdrant accepts only
   * UUIDs and integers as ids; its adapter maps this to a UUIDv5 and keeps the original alongside.)
   */
  readonly id: string;
  readonly vector: ArrayLike<number>;
  readonly payload: ContextPayload;
}

export interface SearchFilter {
  readonly language?: string;
}

export interface SearchHit {
  readonly id: string;
  /** Cosine similarity in [−1, 1]. */
  readonly score: number;
  readonly payload: ContextPayload;
}

/**
 * The vector-index port, as its callers (the stream's index sink and `/recommend`) need it.
 * Adapters: the in-process IVF index (`createMemoryVectorIndex`) and Qdrant. Similarity is cosine;
 * adapters normalise vectors themselves, so callers may pass raw embeddings.
 *
 * Contract: `upsert` is idempotent and replaces a point with the same id (payload and vector);
 * `delete` of an unknown id is a no-op; `search` returns at most `k` hits, best first, only points
 * matching the filter.
 */
export interface VectorIndex {
  /** Which index answers (`memory`, `qdrant`): `/recommend` reports it next to P_vec. */
  readonly backend: string;
  readonly dim: number;
  upsert(points: readonly VectorPoint[]): Promise<void>;
  delete(ids: readonly string[]): Promise<void>;
  search(vector: ArrayLike<number>, k: number, filter?: SearchFilter): Promise<SearchHit[]>;
  size(): Promise<number>;
  /** Removes every point whose payload `user_id` is the user (erasure); how many were removed. */
  deleteByUser?(userId: string): Promise<number>;
}

/** Raised for input a caller must fix (wrong dimension, NaN); never worth a retry. */
export class VectorIndexError extends Error {
  readonly code: 'vector_dimension_mismatch' | 'vector_not_finite' | 'vector_index_invalid_argument';
  readonly retriable = false;

  constructor(code: VectorIndexError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VectorIndexError';
    this.code = code;
  }
}
