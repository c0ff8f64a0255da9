import type { Redis } from 'ioredis';

/**
 * What was chosen earlier in a document (P_doc's history part): option key → count. Written by the
 * API's /paraphrase, read by /recommend. Recording is idempotent per session, so a retried
 * /paraphrase does not count twice. Each choice is also filed under its user, so an erasure takes
 * back exactly that user's choices: the document's history keeps what its other writers chose.
 */
export interface DocStore {
  recordChoice(docId: string, sessionId: string, option: string, userId: string): Promise<void>;
  history(docId: string): Promise<Record<string, number>>;
  /** Takes back every choice the user recorded; answers how many. Idempotent (again: 0). */
  eraseUser(userId: string): Promise<number>;
}

interface MemoryDoc {
  readonly counts: Record<string, number>;
  readonly sessions: Set<string>;
}

/**
 * The in-memory twin (`npm start`, tests): at most `maxDocs` documents, the oldest dropped first.
 *
 * @example
 * const docs = createMemoryDocStore();
 * await docs.recordChoice('doc-1', 'rs-1', 'thesis/moderate', 'u1');
 */
export function createMemoryDocStore(maxDocs = 100_000): DocStore {
  const docs = new Map<string, MemoryDoc>();
  const byUser = new Map<string, { docId: string; sessionId: string; option: string }[]>();
  return {
    async recordChoice(docId, sessionId, option, userId) {
      let d = docs.get(docId);
      if (!d) {
        if (docs.size >= maxDocs) docs.delete(docs.keys().next().value!);
        d = { counts: {}, sessions: new Set() };
        docs.set(docId, d);
      }
      if (d.sessions.has(sessionId)) return;
      d.sessions.add(sessionId);
      d.counts[option] = (d.counts[option] ?? 0) + 1;
      const mine = byUser.get(userId) ?? [];
      mine.push({ docId, sessionId, option });
      byUser.set(userId, mine);
    },
    history: async (docId) => ({ ...(docs.get(docId)?.counts ?? {}) }),
    async eraseUser(userId) {
      let n = 0;
      for (const c of byUser.get(userId) ?? []) {
        const d = docs.get(c.docId);
        if (!d?.sessions.delete(c.sessionId)) continue;
        n++;
        const left = (d.counts[c.option] ?? 0) - 1;
        if (left > 0) d.counts[c.option] = left;
        else delete d.counts[c.option];
        if (d.sessions.size === 0) docs.delete(c.docId);
      }
      byUser.delete(userId);
      return n;
    },
  };
}

/**
 * KEYS[1] doc hash, KEYS[2] per-doc session set, KEYS[3] the user's choices (field doc NUL session,
 * value option); ARGV: option, session, ttl seconds, doc id.
 */
const RECORD = `
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[3], ARGV[4] .. '\\0' .. ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
`;

/**
 * KEYS[1] the user's choices; ARGV[1] the key prefix. For each choice whose session is still in its
 * document, the session leaves the set and the option's count goes down by one (the field goes at
 * 0); then the user's key goes. One script, so a /paraphrase of the user cannot land in between.
 * (The document keys are derived here, not declared: fine on one Redis, not on Redis Cluster.)
 */
const ERASE = `
local choices = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #choices, 2 do
  local field, option = choices[i], choices[i + 1]
  local cut = string.find(field, '\\0', 1, true)
  if cut then
    local doc, session = string.sub(field, 1, cut - 1), string.sub(field, cut + 1)
    if redis.call('SREM', ARGV[1] .. 'doc_sessions:' .. doc, session) == 1 then
      n = n + 1
      local hash = ARGV[1] .. 'doc_options:' .. doc
      if redis.call('HINCRBY', hash, option, -1) <= 0 then redis.call('HDEL', hash, option) end
    end
  end
end
redis.call('DEL', KEYS[1])
return n
`;

/**
 * Redis: `doc_options:{doc_id}` (hash option → count), its session set `doc_sessions:{doc_id}` and
 * each user's choices `doc_choices:{user_id}`, all expiring `ttlDays` after their last write.
 *
 * @example
 * const docs = createRedisDocStore(redis, { prefix: 'sentencify:' });
 * await docs.eraseUser('u1'); // 3
 */
export function createRedisDocStore(
  redis: Redis,
  opts: { prefix?: string; ttlDays?: number } = {},
): DocStore {
  const prefix = opts.prefix ?? '';
  const ttl = String(Math.round((opts.ttlDays ?? 90) * 86_400));
  return {
    async recordChoice(docId, sessionId, option, userId) {
      await redis.eval(
        RECORD,
        3,
        `${prefix}doc_options:${docId}`,
        `${prefix}doc_sessions:${docId}`,
        `${prefix}doc_choices:${userId}`,
        option,
        sessionId,
        ttl,
        docId,
      );
    },
    async history(docId) {
      const h = await redis.hgetall(`${prefix}doc_options:${docId}`);
      return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
    },
    async eraseUser(userId) {
      return Number(await redis.eval(ERASE, 1, `${prefix}doc_choices:${userId}`, prefix));
    },
  };
}
