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
  /** session → who chose what in it. */
  readonly sessions: Map<string, { readonly user: string; readonly option: string }>;
}

/**
 * The in-memory twin (`npm start`, tests): at most `maxDocs` documents, the oldest dropped first
 * (with its entries in the users' indexes).
 *
 * @example
 * const docs = createMemoryDocStore();
 * await docs.recordChoice('doc-1', 'rs-1', 'thesis/moderate', 'u1');
 */
export function createMemoryDocStore(maxDocs = 100_000): DocStore {
  const docs = new Map<string, MemoryDoc>();
  /** user → the documents they chose in. */
  const byUser = new Map<string, Set<string>>();
  const unfile = (user: string, docId: string) => {
    const mine = byUser.get(user);
    mine?.delete(docId);
    if (mine?.size === 0) byUser.delete(user);
  };
  const drop = (docId: string) => {
    const d = docs.get(docId);
    if (!d) return;
    docs.delete(docId);
    for (const c of d.sessions.values()) unfile(c.user, docId);
  };
  return {
    async recordChoice(docId, sessionId, option, userId) {
      let d = docs.get(docId);
      if (!d) {
        if (docs.size >= maxDocs) drop(docs.keys().next().value!);
        d = { counts: {}, sessions: new Map() };
        docs.set(docId, d);
      }
      if (d.sessions.has(sessionId)) return;
      d.sessions.set(sessionId, { user: userId, option });
      d.counts[option] = (d.counts[option] ?? 0) + 1;
      const mine = byUser.get(userId) ?? new Set<string>();
      mine.add(docId);
      byUser.set(userId, mine);
    },
    history: async (docId) => ({ ...(docs.get(docId)?.counts ?? {}) }),
    async eraseUser(userId) {
      let n = 0;
      for (const docId of byUser.get(userId) ?? []) {
        const d = docs.get(docId);
        if (!d) continue;
        for (const [session, c] of d.sessions) {
          if (c.user !== userId) continue;
          d.sessions.delete(session);
          n++;
          const left = (d.counts[c.option] ?? 0) - 1;
          if (left > 0) d.counts[c.option] = left;
          else delete d.counts[c.option];
        }
        if (d.sessions.size === 0) docs.delete(docId);
      }
      byUser.delete(userId);
      return n;
    },
  };
}

/**
 * KEYS[1] doc hash, KEYS[2] per-doc session set, KEYS[3] the doc's writers, KEYS[4] the user's
 * choices; ARGV: option, session, ttl seconds, doc id, user id, key prefix. A choice is filed under
 * its user as field `<byte length of doc id>:<doc id><session id>` (any bytes in either id), value
 * the option. Every writer's index of a document expires with the document: a quiet user's choices
 * in a document others keep writing stay erasable.
 */
const RECORD = `
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[4], string.len(ARGV[4]) .. ':' .. ARGV[4] .. ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
for _, user in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('EXPIRE', ARGV[6] .. 'doc_choices:' .. user, ARGV[3])
end
return 1
`;

/**
 * KEYS[1] the user's choices; ARGV[1] the key prefix, ARGV[2] the user id. For each choice whose
 * session is still in its document, the session leaves the set and the option's count goes down
 * by one (the field goes at 0); the user leaves each document's writers; then the user's key goes.
 * One script, so a /paraphrase of the user cannot land in between. (The document keys are derived
 * here, not declared: fine on one Redis, not on Redis Cluster.)
 */
const ERASE = `
local choices = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #choices, 2 do
  local field, option = choices[i], choices[i + 1]
  local colon = string.find(field, ':', 1, true)
  local len = colon and tonumber(string.sub(field, 1, colon - 1))
  if len then
    local doc = string.sub(field, colon + 1, colon + len)
    local session = string.sub(field, colon + len + 1)
    redis.call('SREM', ARGV[1] .. 'doc_users:' .. doc, ARGV[2])
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

type WithDocScripts = Redis & {
  sentencifyDocRecord(...args: string[]): Promise<number>;
  sentencifyDocErase(key: string, prefix: string, userId: string): Promise<number>;
};

function withScripts(redis: Redis): WithDocScripts {
  const r = redis as WithDocScripts;
  if (typeof r.sentencifyDocRecord !== 'function') {
    redis.defineCommand('sentencifyDocRecord', { numberOfKeys: 4, lua: RECORD });
    redis.defineCommand('sentencifyDocErase', { numberOfKeys: 1, lua: ERASE });
  }
  return r;
}

/**
 * Redis: `doc_options:{doc_id}` (hash option → count), its session set `doc_sessions:{doc_id}`, its
 * writers `doc_users:{doc_id}` and each user's choices `doc_choices:{user_id}`; a document's keys
 * and its writers' choices expire `ttlDays` after the document's last write.
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
  const r = withScripts(redis);
  return {
    async recordChoice(docId, sessionId, option, userId) {
      await r.sentencifyDocRecord(
        `${prefix}doc_options:${docId}`,
        `${prefix}doc_sessions:${docId}`,
        `${prefix}doc_users:${docId}`,
        `${prefix}doc_choices:${userId}`,
        option,
        sessionId,
        ttl,
        docId,
        userId,
        prefix,
      );
    },
    async history(docId) {
      const h = await redis.hgetall(`${prefix}doc_options:${docId}`);
      return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
    },
    async eraseUser(userId) {
      return Number(await r.sentencifyDocErase(`${prefix}doc_choices:${userId}`, prefix, userId));
    },
  };
}
