import {
  QdrantClient,
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
} from '@qdrant/js-client-rest';
import { pointIdOf } from './point-id.ts';
import type { ContextPayload, SearchFilter, SearchHit, VectorIndex } from './vector-index.ts';
import { VectorIndexError } from './vector-index.ts';

export interface QdrantVectorIndexOptions {
  /** `http://127.0.0.1:16333` (the local peer), a cluster, or a Qdrant Cloud URL. */
  readonly url: string;
  /** Sent as the `api-key` header (Qdrant Cloud, or a server with `service.api_key`). */
  readonly apiKey?: string;
  /** One collection per namespace, e.g. `sentencify_contexts_h`. */
  readonly collection: string;
  /** The embedder's dimension; an existing collection with another one is refused by `ensure()`. */
  readonly dim: number;
  /**
   * Deadline of every search, upsert, delete and count, in ms (default 2,000). `/recommend` gives
   * up on P_vec after it (degraded), and the index sink backs off and retries.
   */
  readonly timeoutMs?: number;
  /** Deadline of `ensure()` and `optimizeIndex()`, which may build an HNSW graph (default 600,000). */
  readonly adminTimeoutMs?: number;
  /** Points per upsert request (default 256: ~0.5 MB of JSON at 384 dims). */
  readonly upsertBatch?: number;
  /**
   * Upsert requests of one call in flight at once (default 2): while Qdrant applies one batch the
   * next is serialised and sent, which on a small machine is most of the gap to the bare client.
   * The batches of one call hold distinct points, so their order does not matter.
   */
  readonly upsertConcurrency?: number;
  /** `hnsw_ef` of searches (default: the server's, which is ef_construct = 100). */
  readonly searchEf?: number;
  /** HNSW parameters of a collection `ensure()` creates (default m 16, ef_construct 100). */
  readonly hnsw?: { readonly m?: number; readonly efConstruct?: number };
  /** Payload fields given a keyword index (default language, user_id, option_key). */
  readonly keywordIndexes?: readonly string[];
}

/** The Qdrant adapter of the vector-index port, plus what only a server-side index has. */
export interface QdrantVectorIndex extends VectorIndex {
  readonly backend: 'qdrant';
  readonly collection: string;
  /**
   * Creates the collection (cosine, `dim`) and its payload indexes, or checks an existing one's
   * dimension and distance (`QdrantIndexError` `qdrant_dimension_mismatch`, not retriable). Safe
   * to call from several processes at once and again at every start. Writers call it again
   * themselves when the collection was dropped (a re-index): `upsert` recreates it, `delete` of a
   * missing collection is a no-op, `search` rejects (`qdrant_collection_missing`).
   */
  ensure(): Promise<void>;
  /**
   * The wheel's scheduled optimisation step: asks Qdrant to run its optimizers now (merge small
   * segments, vacuum deletions, build the HNSW graph) and waits until the collection is green.
   * Idempotent: on an optimised collection it returns at once.
   */
  optimizeIndex(): Promise<{
    readonly points: number;
    readonly indexedVectors: number;
    readonly segments: number;
  }>;
}

export type QdrantErrorCode =
  | 'qdrant_unavailable'
  | 'qdrant_timeout'
  | 'qdrant_overloaded'
  | 'qdrant_server_error'
  | 'qdrant_bad_request'
  | 'qdrant_unauthorized'
  | 'qdrant_collection_missing'
  | 'qdrant_dimension_mismatch';

/**
 * A Qdrant call failed. `retriable` says whether trying again later can help (refused connection,
 * timeout, 5xx, 429) or not (400, 401/403, a missing collection, the wrong dimension), so the sink
 * runtime backs off or stops, and `/recommend` answers degraded either way.
 */
export class QdrantIndexError extends Error {
  readonly code: QdrantErrorCode;
  readonly retriable: boolean;
  /** HTTP status, when Qdrant answered. */
  readonly status?: number;

  constructor(
    code: QdrantErrorCode,
    message: string,
    opts: { retriable: boolean; status?: number; cause?: unknown },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'QdrantIndexError';
    this.code = code;
    this.retriable = opts.retriable;
    if (opts.status !== undefined) this.status = opts.status;
  }
}

/** Socket-level failures: Qdrant is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function causeCode(e: unknown): string | undefined {
  for (
    let c: unknown = e, i = 0;
    c && typeof c === 'object' && i < 4;
    c = (c as { cause?: unknown }).cause, i++
  ) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Maps what the JS client throws to a typed error; `what` names the call for the message. */
export function toQdrantError(e: unknown, what: string): QdrantIndexError | VectorIndexError {
  if (e instanceof QdrantIndexError || e instanceof VectorIndexError) return e;
  if (e instanceof QdrantClientTimeoutError)
    return new QdrantIndexError('qdrant_timeout', `${what}: no answer from Qdrant in time`, {
      retriable: true,
      cause: e,
    });
  if (e instanceof QdrantClientResourceExhaustedError)
    return new QdrantIndexError('qdrant_overloaded', `${what}: Qdrant is rate limiting (429)`, {
      retriable: true,
      status: 429,
      cause: e,
    });
  const status = (e as { status?: unknown } | null)?.status;
  if (typeof status === 'number') {
    const detail = (e as { data?: { status?: { error?: string } } }).data?.status?.error ?? '';
    const msg = `${what}: Qdrant answered ${status}${detail ? `: ${detail}` : ''}`;
    if (status === 429 || status === 503 || status === 502 || status === 504)
      return new QdrantIndexError('qdrant_overloaded', msg, { retriable: true, status, cause: e });
    if (status >= 500)
      return new QdrantIndexError('qdrant_server_error', msg, { retriable: true, status, cause: e });
    if (status === 401 || status === 403)
      return new QdrantIndexError('qdrant_unauthorized', msg, { retriable: false, status, cause: e });
    if (status === 404)
      return new QdrantIndexError('qdrant_collection_missing', msg, { retriable: false, status, cause: e });
    return new QdrantIndexError('qdrant_bad_request', msg, { retriable: false, status, cause: e });
  }
  const code = causeCode(e);
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError')
    return new QdrantIndexError('qdrant_timeout', `${what}: no answer from Qdrant in time`, {
      retriable: true,
      cause: e,
    });
  // Anything else (a refused or reset connection, a body cut short) is treated as Qdrant being
  // away: retrying is what the sink runtime does with errors it cannot classify anyway.
  const reason = code && NETWORK_CODES.has(code) ? code : e instanceof Error ? e.message : String(e);
  return new QdrantIndexError('qdrant_unavailable', `${what}: Qdrant unreachable (${reason})`, {
    retriable: true,
    cause: e,
  });
}

const PAYLOAD_FIELDS = [
  'option_key',
  'category',
  'intensity',
  'style_request',
  'language',
  'user_id',
  'consistency',
  'example_id',
  'ts',
] as const satisfies readonly (keyof ContextPayload)[];

/**
 * The Qdrant adapter of the vector-index port. A point's id is the UUID v5 of the recommend
 * session id (`pointIdOf`), so replays and revisions upsert the same point; its payload is the
 * `ContextPayload` plus `recommend_session_id`, which search hits return as `id`. Vectors are sent
 * as they come: a cosine collection normalises them, and its scores are the cosine similarity
 * the in-process index computes. Errors are `QdrantIndexError`s with `retriable`.
 *
 * @example
 * const index = createQdrantVectorIndex({ url: 'http://127.0.0.1:16333', collection: 'ns_contexts_h', dim: 384 });
 * await index.ensure();
 * await index.upsert([{ id: 'rs-1', vector: embedding, payload }]);
 * const hits = await index.search(query, 20, { language: 'ko' }); // hits[0].id === 'rs-1'
 */
export function createQdrantVectorIndex(o: QdrantVectorIndexOptions): QdrantVectorIndex {
  const { collection, dim } = o;
  if (!(Number.isInteger(dim) && dim > 0))
    throw new VectorIndexError(
      'vector_index_invalid_argument',
      `createQdrantVectorIndex: dim must be > 0, got ${dim}`,
    );
  const timeoutMs = o.timeoutMs ?? 2000;
  const batch = o.upsertBatch ?? 256;
  const concurrency = Math.max(1, o.upsertConcurrency ?? 2);
  const keywordIndexes = o.keywordIndexes ?? ['language', 'user_id', 'option_key'];
  // The compatibility check is a stray GET / at construction that warns when Qdrant is down: the
  // API starts (degraded) without Qdrant, so it is left out; the peer reports 1.17.x anyway.
  const common = { url: o.url, checkCompatibility: false, ...(o.apiKey ? { apiKey: o.apiKey } : {}) };
  const client = new QdrantClient({ ...common, timeout: timeoutMs });
  const adminTimeoutMs = o.adminTimeoutMs ?? 600_000;
  const admin = new QdrantClient({ ...common, timeout: adminTimeoutMs });
  const params = o.searchEf ? { hnsw_ef: o.searchEf } : undefined;

  async function call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw toQdrantError(e, `qdrant ${collection} ${what}`);
    }
  }

  function checkVector(v: ArrayLike<number>, what: string): number[] {
    if (v.length !== dim)
      throw new VectorIndexError(
        'vector_dimension_mismatch',
        `${what}: vector has ${v.length} dimensions, the index ${dim}`,
      );
    const out = new Array<number>(dim);
    for (let j = 0; j < dim; j++) {
      const x = v[j]!;
      if (!Number.isFinite(x))
        throw new VectorIndexError('vector_not_finite', `${what}: component ${j} is ${x}`);
      out[j] = x;
    }
    return out;
  }

  async function checkExisting(): Promise<void> {
    const info = await call('get collection', () => admin.getCollection(collection));
    const vectors = info.config.params.vectors as { size?: number; distance?: string } | undefined;
    const size = vectors?.size;
    if (size !== dim)
      throw new QdrantIndexError(
        'qdrant_dimension_mismatch',
        `qdrant collection ${collection} holds ${size ?? 'named or unknown'}-dimensional vectors, the embedder gives ${dim}: ` +
          'use another collection (QDRANT_COLLECTION) or drop this one and re-index',
        { retriable: false },
      );
    if (vectors?.distance !== 'Cosine')
      throw new QdrantIndexError(
        'qdrant_dimension_mismatch',
        `qdrant collection ${collection} uses ${vectors?.distance} distance, the index needs Cosine`,
        { retriable: false },
      );
  }

  async function ensure(): Promise<void> {
    const { exists } = await call('exists', () => admin.collectionExists(collection));
    if (exists) await checkExisting();
    else {
      try {
        await admin.createCollection(collection, {
          vectors: { size: dim, distance: 'Cosine' },
          hnsw_config: { m: o.hnsw?.m ?? 16, ef_construct: o.hnsw?.efConstruct ?? 100 },
        });
      } catch (e) {
        // Another process created it in between: then it must have our dimension too.
        if ((e as { status?: unknown }).status !== 409) throw toQdrantError(e, `qdrant ${collection} create`);
        await checkExisting();
      }
    }
    // Creating an index that exists is a no-op for Qdrant, so this is safe at every start.
    for (const field_name of keywordIndexes)
      await call(`index ${field_name}`, () =>
        admin.createPayloadIndex(collection, { field_name, field_schema: 'keyword', wait: true }),
      );
  }

  return {
    backend: 'qdrant',
    dim,
    collection,

    ensure,

    async upsert(points) {
      // Validate everything first so a bad point cannot leave part of the call applied; the last
      // point of a session wins, as in the in-process index.
      const byId = new Map<string, { id: string; vector: number[]; payload: Record<string, unknown> }>();
      for (const p of points) {
        const vector = checkVector(p.vector, `point ${p.id}`);
        byId.delete(p.id);
        byId.set(p.id, {
          id: pointIdOf(p.id),
          vector,
          payload: { ...p.payload, recommend_session_id: p.id },
        });
      }
      const all = [...byId.values()];
      const chunks: (typeof all)[] = [];
      for (let i = 0; i < all.length; i += batch) chunks.push(all.slice(i, i + batch));
      const writeAll = async () => {
        let next = 0;
        let failed = false;
        const worker = async () => {
          while (next < chunks.length && !failed) {
            const chunk = chunks[next++]!;
            try {
              await call('upsert', () => client.upsert(collection, { wait: true, points: chunk }));
            } catch (e) {
              failed = true;
              throw e;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
      };
      try {
        await writeAll();
      } catch (e) {
        // Dropped for a re-index (docs/qdrant.md): the writer recreates it and writes again; the
        // batches that did land are rewritten, which an upsert allows.
        if (!(e instanceof QdrantIndexError && e.code === 'qdrant_collection_missing')) throw e;
        await ensure();
        await writeAll();
      }
    },

    async delete(ids) {
      if (ids.length === 0) return;
      const pointIds = [...new Set(ids)].map((id) => pointIdOf(id));
      for (let i = 0; i < pointIds.length; i += batch * 4) {
        const chunk = pointIds.slice(i, i + batch * 4);
        try {
          await call('delete', () => client.delete(collection, { wait: true, points: chunk }));
        } catch (e) {
          // No collection, no point to delete.
          if (e instanceof QdrantIndexError && e.code === 'qdrant_collection_missing') return;
          throw e;
        }
      }
    },

    async deleteByUser(userId) {
      // Delete by payload filter (the peer supports it: scripts/services/qdrant/server.py); the
      // count before says how many went, for the erasure's audit.
      const filter = { must: [{ key: 'user_id', match: { value: userId } }] };
      try {
        const { count } = await call('count', () => client.count(collection, { exact: true, filter }));
        if (count > 0) await call('delete', () => client.delete(collection, { wait: true, filter }));
        return count;
      } catch (e) {
        if (e instanceof QdrantIndexError && e.code === 'qdrant_collection_missing') return 0;
        throw e;
      }
    },

    async search(vector, k, filter?: SearchFilter) {
      const query = checkVector(vector, 'query');
      if (!(Number.isInteger(k) && k >= 0))
        throw new VectorIndexError(
          'vector_index_invalid_argument',
          `k must be a non-negative integer, got ${k}`,
        );
      if (k === 0) return [];
      const res = await call('search', () =>
        client.query(collection, {
          query,
          limit: k,
          with_payload: true,
          ...(filter?.language !== undefined
            ? { filter: { must: [{ key: 'language', match: { value: filter.language } }] } }
            : {}),
          ...(params ? { params } : {}),
        }),
      );
      return res.points.map((p): SearchHit => {
        const pl = (p.payload ?? {}) as Record<string, unknown>;
        const payload = {} as Record<string, unknown>;
        for (const f of PAYLOAD_FIELDS) payload[f] = pl[f] ?? null;
        return {
          id: typeof pl.recommend_session_id === 'string' ? pl.recommend_session_id : String(p.id),
          score: p.score,
          payload: payload as unknown as ContextPayload,
        };
      });
    },

    async size() {
      const { count } = await call('count', () => client.count(collection, { exact: true }));
      return count;
    },

    async optimizeIndex() {
      // PATCH with the optimizer config: the server re-plans its optimizations after a config
      // update (the peer, which has no background optimizer, runs them before answering).
      await call('optimize', () => admin.updateCollection(collection, { optimizers_config: {} }));
      const deadline = Date.now() + adminTimeoutMs;
      for (;;) {
        const info = await call('get collection', () => admin.getCollection(collection));
        if (typeof info.optimizer_status === 'object' && info.optimizer_status)
          throw new QdrantIndexError(
            'qdrant_server_error',
            `qdrant ${collection} optimize: ${info.optimizer_status.error}`,
            { retriable: true },
          );
        if (info.status === 'green' || Date.now() > deadline) {
          const points = (await call('count', () => admin.count(collection, { exact: true }))).count;
          return { points, indexedVectors: info.indexed_vectors_count ?? 0, segments: info.segments_count };
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  };
}
