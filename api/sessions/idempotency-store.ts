/**
 * Stored first answers of idempotent writes (`Idempotency-Key` on `/paraphrase` and `/select`).
 * A key is claimed before the request runs (so two concurrent retries cannot both emit), then
 * either completed with the answer (kept for the TTL) or released when the request failed, so a
 * retry can run it again. Redis adapter in redis-idempotency-store.ts; the in-memory twin below;
 * both pass test/helpers/session-contract.ts.
 */

/** The answer a retry gets back. */
export interface StoredAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** What the store holds for a key: the request's fingerprint and its answer (null while running). */
export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly answer: StoredAnswer | null;
}

export interface IdempotencyStore {
  /**
   * Claims `key` for a request with this fingerprint: null when this call claimed it, otherwise
   * the record already there (in progress, or done). Atomic across processes.
   */
  begin(key: string, fingerprint: string, owner?: string): Promise<IdempotencyRecord | null>;
  /**
   * Stores the answer of the claimed key for the TTL, under `owner` (the same user id as `begin`'s):
   * given again because an erasure may have run while the request did, taking the claim (and its
   * owner) with it, and a stored answer must stay reachable by the next erasure.
   */
  complete(key: string, fingerprint: string, answer: StoredAnswer, owner?: string): Promise<void>;
  /** Frees a claimed key whose request failed, so a retry runs it again. */
  release(key: string): Promise<void>;
  /**
   * Forgets every key its `owner` (a user id, given to `begin`) claimed: a stored answer holds
   * the user's paraphrased text. Part of erasing a user. Returns how many keys went.
   */
  eraseUser(owner: string): Promise<number>;
}

export interface IdempotencyStoreOptions {
  /** How long a first answer is kept (default 24 h). */
  readonly ttlMs?: number;
  /**
   * How long a claim without an answer holds (default 60 s, longer than any request: the LLM
   * timeout is 15 s). A process that died mid-request thus blocks its key for at most this long.
   */
  readonly pendingTtlMs?: number;
}

export interface MemoryIdempotencyStoreOptions extends IdempotencyStoreOptions {
  /** At most this many keys are kept; the oldest go first (default 100,000). */
  readonly maxKeys?: number;
  readonly clock?: () => number;
}

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3600_000;
export const DEFAULT_PENDING_TTL_MS = 60_000;

/**
 * The in-memory twin: one process only (`npm start`, unit tests).
 *
 * @example
 * const store = createMemoryIdempotencyStore();
 * await store.begin('k', 'f1'); // null: claimed
 * await store.complete('k', 'f1', { status: 200, body: { ok: true } });
 * await store.begin('k', 'f1'); // { fingerprint: 'f1', answer: { status: 200, … } }
 */
export function createMemoryIdempotencyStore(o: MemoryIdempotencyStoreOptions = {}): IdempotencyStore {
  const ttl = o.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const pendingTtl = o.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS;
  const max = o.maxKeys ?? 100_000;
  const clock = o.clock ?? Date.now;
  const m = new Map<string, { rec: IdempotencyRecord; expiresAt: number; owner?: string }>();
  const live = (key: string) => {
    const e = m.get(key);
    if (e && e.expiresAt <= clock()) {
      m.delete(key);
      return null;
    }
    return e ?? null;
  };
  const put = (key: string, rec: IdempotencyRecord, ms: number, owner?: string) => {
    m.delete(key);
    m.set(key, { rec, expiresAt: clock() + ms, owner });
    while (m.size > max) m.delete(m.keys().next().value as string);
  };
  return {
    async begin(key, fingerprint, owner) {
      const e = live(key);
      if (e) return e.rec;
      put(key, { fingerprint, answer: null }, pendingTtl, owner);
      return null;
    },
    async complete(key, fingerprint, answer, owner) {
      put(key, { fingerprint, answer }, ttl, owner ?? m.get(key)?.owner);
    },
    async release(key) {
      m.delete(key);
    },
    async eraseUser(owner) {
      let n = 0;
      for (const [k, e] of m) {
        if (e.owner === owner && m.delete(k)) n++;
      }
      return n;
    },
  };
}
