import type { Redis } from 'ioredis';
import {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_PENDING_TTL_MS,
  type IdempotencyRecord,
  type IdempotencyStore,
  type IdempotencyStoreOptions,
} from './idempotency-store.ts';
import {
  DEFAULT_SESSION_TTL_MS,
  type SessionInfo,
  type SessionRegistry,
  type SessionSelection,
} from './session-registry.ts';

// Each script checks and writes in one atomic step on the server, so API processes on several
// hosts racing for one session id (or one selection) cannot both win, and no key is ever written
// without its TTL (a HSET on a key that expired meanwhile would create it with none).

// Each user's keys are listed in the set <prefix>user_writes:<user> (members `s:<session id>`,
// `i:<idempotency key>`), kept as long as the longest-lived of them, so erasing a user finds them.
const EXTEND_INDEX = `
local function extend(idx, member, ttl)
  redis.call('SADD', idx, member)
  if redis.call('PTTL', idx) < tonumber(ttl) then redis.call('PEXPIRE', idx, ttl) end
end
`;

/** KEYS[1] session hash, KEYS[2] the user's index; ARGV: ttl ms, user_id, language, doc_id ('' = none), member. */
const OPEN = `${EXTEND_INDEX}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'language', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'doc_id', ARGV[4]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
extend(KEYS[2], ARGV[5], ARGV[1])
return 1
`;
/** KEYS[1] idempotency key, KEYS[2] the owner's index; ARGV: record, pending ttl, member, ttl. Returns the record there, or nil. */
const BEGIN = `${EXTEND_INDEX}
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  extend(KEYS[2], ARGV[3], ARGV[4])
  return false
end
return redis.call('GET', KEYS[1])
`;
/** KEYS[1] idempotency key, KEYS[2] the owner's index; ARGV: record, ttl, member. Indexed again: an erasure may have run since begin. */
const COMPLETE = `${EXTEND_INDEX}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
extend(KEYS[2], ARGV[3], ARGV[2])
return 1
`;
/**
 * KEYS[1] the user's index; ARGV: kind (`s:` / `i:`), key prefix of that kind. Deletes the keys and
 * their index entries in one step, so a write indexed meanwhile is either erased or kept indexed.
 * The data keys are derived from the index (not in KEYS): fine on a single Redis, not on a cluster.
 */
const ERASE_INDEXED = `
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if string.sub(m, 1, 2) == ARGV[1] then
    n = n + redis.call('DEL', ARGV[2] .. string.sub(m, 3))
    redis.call('SREM', KEYS[1], m)
  end
end
return n
`;
/** KEYS[1] session hash; ARGV: candidates. */
const SET_CANDIDATES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'candidates', ARGV[1])
return 1
`;
/**
 * KEYS[1] session hash; ARGV: selection JSON, its event id, now (ms). Returns the selection there,
 * 'busy' while a B's emit holds the session (fields `b_emit:<event id>` = until, ms), or nil when
 * this call claimed it.
 */
const CLAIM_SELECTION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], 'selection')
if cur then return cur end
local h = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[3])
for i = 1, #h, 2 do
  if string.sub(h[i], 1, 7) == 'b_emit:' then
    if tonumber(h[i + 1]) > now then return 'busy' end
    redis.call('HDEL', KEYS[1], h[i])
  end
end
redis.call('HSET', KEYS[1], 'selection', ARGV[1], 'selection_event', ARGV[2])
return false
`;
/** KEYS[1] session hash; ARGV: B event id, until (ms). Returns the selection there, or nil once marked. */
const BEGIN_B = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], 'selection')
if cur then return cur end
redis.call('HSET', KEYS[1], 'b_emit:' .. ARGV[1], ARGV[2])
return false
`;
/** KEYS[1] session hash; ARGV: event id. */
const RELEASE_SELECTION = `
if redis.call('HGET', KEYS[1], 'selection_event') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'selection', 'selection_event')
end
return 1
`;

type Scripted = Redis & {
  sentencifySessionOpen(key: string, index: string, ...argv: string[]): Promise<number>;
  sentencifyIdempotencyBegin(key: string, index: string, ...argv: string[]): Promise<string | null>;
  sentencifyIdempotencyComplete(key: string, index: string, ...argv: string[]): Promise<number>;
  sentencifyEraseIndexed(index: string, kind: string, keyPrefix: string): Promise<number>;
  sentencifySessionCandidates(key: string, n: string): Promise<number>;
  sentencifySessionClaim(key: string, json: string, eventId: string, now: string): Promise<string | null>;
  sentencifySessionBeginB(key: string, eventId: string, until: string): Promise<string | null>;
  sentencifySessionRelease(key: string, eventId: string): Promise<number>;
};

function scripted(redis: Redis): Scripted {
  const r = redis as Scripted;
  if (typeof r.sentencifySessionOpen !== 'function') {
    redis.defineCommand('sentencifySessionOpen', { numberOfKeys: 2, lua: OPEN });
    redis.defineCommand('sentencifyIdempotencyBegin', { numberOfKeys: 2, lua: BEGIN });
    redis.defineCommand('sentencifyIdempotencyComplete', { numberOfKeys: 2, lua: COMPLETE });
    redis.defineCommand('sentencifyEraseIndexed', { numberOfKeys: 1, lua: ERASE_INDEXED });
    redis.defineCommand('sentencifySessionCandidates', { numberOfKeys: 1, lua: SET_CANDIDATES });
    redis.defineCommand('sentencifySessionClaim', { numberOfKeys: 1, lua: CLAIM_SELECTION });
    redis.defineCommand('sentencifySessionRelease', { numberOfKeys: 1, lua: RELEASE_SELECTION });
    redis.defineCommand('sentencifySessionBeginB', { numberOfKeys: 1, lua: BEGIN_B });
  }
  return r;
}

export interface RedisSessionOptions {
  /** Prepended to every key (REDIS_PREFIX), as the profile stores do. */
  readonly prefix?: string;
  /** How long a session is remembered after it was opened (default 24 h). */
  readonly ttlMs?: number;
  /** The time a paraphrase's hold on selections is measured in (default Date.now; keep hosts in sync). */
  readonly clock?: () => number;
}

/**
 * The session registry in Redis, shared by every API process: one hash per session at
 * `<prefix>recommend_session:<id>` (`user_id`, `language`, `doc_id`, `candidates`, `selection`),
 * opened with a TTL only if the key does not exist yet.
 *
 * @example
 * const sessions = createRedisSessionRegistry(new Redis(url), { prefix: 'sentencify:', ttlMs: 86_400_000 });
 * if (!(await sessions.open(id, { user_id, language, doc_id: null }))) throw conflict;
 */
export function createRedisSessionRegistry(redis: Redis, o: RedisSessionOptions = {}): SessionRegistry {
  const r = scripted(redis);
  const prefix = o.prefix ?? '';
  const ttl = o.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const clock = o.clock ?? Date.now;
  const key = (id: string) => `${prefix}recommend_session:${id}`;
  return {
    async open(id, s) {
      const opened = await r.sentencifySessionOpen(
        key(id),
        userIndex(prefix, s.user_id),
        String(ttl),
        s.user_id,
        s.language,
        s.doc_id ?? '',
        `s:${id}`,
      );
      return opened === 1;
    },
    async get(id) {
      const h = await r.hgetall(key(id));
      if (!h.user_id) return null;
      const info: SessionInfo = {
        user_id: h.user_id,
        language: h.language ?? '',
        doc_id: h.doc_id ?? null,
        candidates: h.candidates === undefined ? null : Number(h.candidates),
        selection: h.selection ? (JSON.parse(h.selection) as SessionSelection) : null,
      };
      return info;
    },
    async setCandidates(id, candidates) {
      await r.sentencifySessionCandidates(key(id), String(candidates));
    },
    async claimSelection(id, selection) {
      const cur = await r.sentencifySessionClaim(
        key(id),
        JSON.stringify(selection),
        selection.event_id,
        String(clock()),
      );
      if (cur === 'busy') return 'busy';
      return cur ? (JSON.parse(cur) as SessionSelection) : null;
    },
    async beginParaphraseEmit(id, eventId, holdMs) {
      const cur = await r.sentencifySessionBeginB(key(id), eventId, String(clock() + holdMs));
      return cur ? (JSON.parse(cur) as SessionSelection) : null;
    },
    async endParaphraseEmit(id, eventId) {
      await r.hdel(key(id), `b_emit:${eventId}`);
    },
    async releaseSelection(id, eventId) {
      await r.sentencifySessionRelease(key(id), eventId);
    },
    eraseUser: (userId) => eraseIndexed(redis, prefix, userId, 's:'),
  };
}

const userIndex = (prefix: string, user: string) => `${prefix}user_writes:${user}`;

/** Deletes the user's keys of one kind (`s:` sessions, `i:` idempotency keys) and their index entries. */
async function eraseIndexed(redis: Redis, prefix: string, user: string, kind: 's:' | 'i:'): Promise<number> {
  const keyPrefix = kind === 's:' ? `${prefix}recommend_session:` : `${prefix}idempotency:`;
  return Number(await scripted(redis).sentencifyEraseIndexed(userIndex(prefix, user), kind, keyPrefix));
}

/**
 * Idempotent-write answers in Redis, shared by every API process: one string per key at
 * `<prefix>idempotency:<key>` holding `{ fingerprint, answer }`, claimed with `SET NX PX`.
 *
 * @example
 * const idem = createRedisIdempotencyStore(new Redis(url), { prefix: 'sentencify:' });
 * const existing = await idem.begin(eventId, fingerprint); // null: this request runs
 */
export function createRedisIdempotencyStore(
  redis: Redis,
  o: IdempotencyStoreOptions & { readonly prefix?: string } = {},
): IdempotencyStore {
  const prefix = o.prefix ?? '';
  const ttl = o.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const pendingTtl = o.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS;
  const key = (k: string) => `${prefix}idempotency:${k}`;
  return {
    async begin(k, fingerprint, owner) {
      const record = JSON.stringify({ fingerprint, answer: null });
      if (owner !== undefined) {
        const r = scripted(redis);
        const cur = await r.sentencifyIdempotencyBegin(
          key(k),
          userIndex(prefix, owner),
          record,
          String(pendingTtl),
          `i:${k}`,
          String(ttl),
        );
        return cur === null ? null : (JSON.parse(cur) as IdempotencyRecord);
      }
      // A record that expires between the SET and the GET is gone: claim again (bounded).
      for (let attempt = 0; attempt < 3; attempt++) {
        const claimed = await redis.set(key(k), record, 'PX', pendingTtl, 'NX');
        if (claimed === 'OK') return null;
        const cur = await redis.get(key(k));
        if (cur !== null) return JSON.parse(cur) as IdempotencyRecord;
      }
      throw new Error(`idempotency key ${k}: could neither claim nor read it`);
    },
    async complete(k, fingerprint, answer, owner) {
      const record = JSON.stringify({ fingerprint, answer });
      if (owner === undefined) {
        await redis.set(key(k), record, 'PX', ttl);
        return;
      }
      await scripted(redis).sentencifyIdempotencyComplete(
        key(k),
        userIndex(prefix, owner),
        record,
        String(ttl),
        `i:${k}`,
      );
    },
    async release(k) {
      await redis.del(key(k));
    },
    eraseUser: (owner) => eraseIndexed(redis, prefix, owner, 'i:'),
  };
}
