/**
 * The session registry: which recommend sessions exist, who owns each one, and what happened in
 * it so far. `/recommend` opens a session, `/paraphrase` and `/select` check against it before they
 * emit anything. Several API processes (workers, hosts) must see the same registry, so production
 * uses the Redis adapter (redis-session-registry.ts); `npm start` and unit tests use the
 * in-memory twin below. Both pass test/helpers/session-contract.ts.
 */

/** A session as the registry knows it. */
export interface SessionInfo {
  readonly user_id: string;
  /** The language `/recommend` scored in (the request's, or detected). */
  readonly language: string;
  readonly doc_id: string | null;
  /** How many candidates the latest `/paraphrase` returned; null before the first. */
  readonly candidates: number | null;
  /** The session's one selection, null before `/select`. */
  readonly selection: SessionSelection | null;
}

export interface SessionSelection {
  /** Event id of C. */
  readonly event_id: string;
  /** Event time of C (ISO-8601). */
  readonly ts: string;
}

export interface NewSession {
  readonly user_id: string;
  readonly language: string;
  readonly doc_id: string | null;
}

export interface SessionRegistry {
  /**
   * Registers a session under `id` for its user, if no session with that id exists (within the
   * TTL): true when it was opened now, false when the id is taken — by anyone. Atomic, so two
   * processes racing for one id cannot both win.
   */
  open(id: string, session: NewSession): Promise<boolean>;
  get(id: string): Promise<SessionInfo | null>;
  /** Records the candidate count of the session's latest paraphrase (no-op for an unknown id). */
  setCandidates(id: string, candidates: number): Promise<void>;
  /**
   * Claims the session's one selection atomically: null when this call claimed it (or the id is
   * unknown: the route checked that before), otherwise the selection already recorded, or `'busy'`
   * while a paraphrase's B is being emitted (`beginParaphraseEmit`): then nothing was claimed.
   */
  claimSelection(id: string, selection: SessionSelection): Promise<SessionSelection | 'busy' | null>;
  /**
   * Before a paraphrase emits its B: atomically, the selection already recorded (then no B may be
   * emitted), or null and the session is marked as emitting this B until `endParaphraseEmit` or
   * for `holdMs` at most (a process that died mid-emit holds nobody up for longer). While marked,
   * `claimSelection` answers `'busy'`, so no C is claimed between the check and the emit.
   */
  beginParaphraseEmit(id: string, eventId: string, holdMs: number): Promise<SessionSelection | null>;
  /** The B was emitted (or could not be): the session is no longer held for it. */
  endParaphraseEmit(id: string, eventId: string): Promise<void>;
  /** Gives a claim back when its C could not be recorded, if it is still this event's claim. */
  releaseSelection(id: string, eventId: string): Promise<void>;
  /** Forgets every session of a user (part of erasing them). Returns how many went. */
  eraseUser(userId: string): Promise<number>;
}

export interface MemorySessionRegistryOptions {
  /** How long a session is remembered after it was opened (default 24 h). */
  readonly ttlMs?: number;
  /** At most this many sessions are kept; the oldest go first (default 100,000). */
  readonly maxSessions?: number;
  /** Clock of the TTL (the embedded wheel's simulated clock; default Date.now). */
  readonly clock?: () => number;
}

/** 24 h: far longer than the join remembers a session (window 30 min + grace 10 min + tombstone). */
export const DEFAULT_SESSION_TTL_MS = 24 * 3600_000;

interface Entry {
  info: SessionInfo;
  expiresAt: number;
  /** B event id → until when its emit holds selections back. */
  emitting?: Map<string, number>;
}

/**
 * The in-memory twin of the session registry: one process only (`npm start`, unit tests).
 *
 * @example
 * const sessions = createMemorySessionRegistry({ ttlMs: 3600_000 });
 * await sessions.open('rs_x', { user_id: 'u1', language: 'en', doc_id: null }); // true
 * await sessions.open('rs_x', { user_id: 'u2', language: 'en', doc_id: null }); // false: taken
 */
export function createMemorySessionRegistry(o: MemorySessionRegistryOptions = {}): SessionRegistry {
  const ttl = o.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const max = o.maxSessions ?? 100_000;
  const clock = o.clock ?? Date.now;
  // Insertion order = opening order, so the first entries are the oldest to expire or evict.
  const m = new Map<string, Entry>();
  const live = (id: string): Entry | null => {
    const e = m.get(id);
    if (!e) return null;
    if (e.expiresAt <= clock()) {
      m.delete(id);
      return null;
    }
    return e;
  };
  const sweep = () => {
    const now = clock();
    for (const [id, e] of m) {
      if (e.expiresAt > now && m.size <= max) break;
      m.delete(id);
    }
  };
  return {
    async open(id, s) {
      if (live(id)) return false;
      m.set(id, {
        info: {
          user_id: s.user_id,
          language: s.language,
          doc_id: s.doc_id,
          candidates: null,
          selection: null,
        },
        expiresAt: clock() + ttl,
      });
      sweep();
      return true;
    },
    async get(id) {
      return live(id)?.info ?? null;
    },
    async setCandidates(id, candidates) {
      const e = live(id);
      if (e) e.info = { ...e.info, candidates };
    },
    async claimSelection(id, selection) {
      const e = live(id);
      if (!e) return null;
      if (e.info.selection) return e.info.selection;
      const now = clock();
      for (const [b, until] of e.emitting ?? []) {
        if (until > now) return 'busy';
        e.emitting!.delete(b);
      }
      e.info = { ...e.info, selection };
      return null;
    },
    async beginParaphraseEmit(id, eventId, holdMs) {
      const e = live(id);
      if (!e) return null;
      if (e.info.selection) return e.info.selection;
      e.emitting ??= new Map();
      e.emitting.set(eventId, clock() + holdMs);
      return null;
    },
    async endParaphraseEmit(id, eventId) {
      live(id)?.emitting?.delete(eventId);
    },
    async releaseSelection(id, eventId) {
      const e = live(id);
      if (e?.info.selection?.event_id === eventId) e.info = { ...e.info, selection: null };
    },
    async eraseUser(userId) {
      let n = 0;
      for (const [id, e] of m) {
        if (e.info.user_id === userId && m.delete(id)) n++;
      }
      return n;
    },
  };
}
