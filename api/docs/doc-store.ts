import type { Redis } from 'ioredis';

/**
 * What was chosen earlier in a document (P_doc's history part): option key → count. Recording is
 * idempotent per session, so a retried /paraphrase does not count twice.
 */
export interface DocStore {
  recordChoice(docId: string, sessionId: string, option: string): Promise<void>;
  history(docId: string): Promise<Record<string, number>>;
}

export function createMemoryDocStore(maxDocs = 100_000): DocStore {
  const docs = new Map<string, { counts: Record<string, number>; sessions: Set<string> }>();
  return {
    async recordChoice(docId, sessionId, option) {
      let d = docs.get(docId);
      if (!d) {
        if (docs.size >= maxDocs) docs.delete(docs.keys().next().value!);
        d = { counts: {}, sessions: new Set() };
        docs.set(docId, d);
      }
      if (d.sessions.has(sessionId)) return;
      d.sessions.add(sessionId);
      d.counts[option] = (d.counts[option] ?? 0) + 1;
    },
    history: async (docId) => ({ ...(docs.get(docId)?.counts ?? {}) }),
  };
}

/** KEYS[1] doc hash, KEYS[2] per-doc session set; ARGV: option, session, ttl seconds. */
const RECORD = `
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
`;

/** Redis: `doc_options:{doc_id}` (hash option → count) and its session set, expiring after `ttlDays`. */
export function createRedisDocStore(
  redis: Redis,
  opts: { prefix?: string; ttlDays?: number } = {},
): DocStore {
  const prefix = opts.prefix ?? '';
  const ttl = String(Math.round((opts.ttlDays ?? 90) * 86_400));
  return {
    async recordChoice(docId, sessionId, option) {
      await redis.eval(
        RECORD,
        2,
        `${prefix}doc_options:${docId}`,
        `${prefix}doc_sessions:${docId}`,
        option,
        sessionId,
        ttl,
      );
    },
    async history(docId) {
      const h = await redis.hgetall(`${prefix}doc_options:${docId}`);
      return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
    },
  };
}
