import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The erased-users registry: for each erased user, a salted hash of the id and the erasure time.
 * The erasure role writes it before it deletes anything; the session join and every sink consult
 * it before applying A/B/C or H, and drop what belongs to an erased user with an event time at or
 * before the erasure. That is what makes a replay from an older commit (the raw events stay on
 * Kafka until their retention) unable to bring the user back. It holds no user id, only the hash.
 */
export interface ErasureRegistry {
  /** Records erasures; a user erased twice keeps the later time (idempotent). */
  mark(entries: readonly { readonly userId: string; readonly erasedAt: number }[]): Promise<void>;
  /** The erasure time of each given user that was erased (users not erased are absent). */
  erasedAt(userIds: readonly string[]): Promise<Map<string, number>>;
  /** Erased users recorded (metrics, tests). */
  count(): Promise<number>;
}

/**
 * What the registry and the audit keep instead of the id: HMAC-SHA256 of the user id keyed by the
 * salt, hex. With a secret `ERASURE_SALT` nobody holding the audit can confirm a guessed id; with
 * the default (the namespace) anyone who knows candidate ids can — set a secret in production.
 */
export function userHash(salt: string, userId: string): string {
  return createHmac('sha256', salt).update(userId).digest('hex');
}

/**
 * Which items to keep: an item of an erased user with a time at or before the erasure is dropped.
 * Pure; `registry.erasedAt` supplies the map.
 */
export function keepNotErased<T>(
  items: readonly T[],
  erased: ReadonlyMap<string, number>,
  userOf: (x: T) => string | null,
  tsOf: (x: T) => number,
): { kept: T[]; dropped: number } {
  if (erased.size === 0) return { kept: [...items], dropped: 0 };
  const kept: T[] = [];
  let dropped = 0;
  for (const x of items) {
    const u = userOf(x);
    const at = u === null ? undefined : erased.get(u);
    // A time that does not parse is treated as "before": an erased user's record is never kept by accident.
    const ts = tsOf(x);
    if (at !== undefined && !(ts > at)) dropped++;
    else kept.push(x);
  }
  return { kept, dropped };
}

/** Looks up the distinct users of `items` and keeps those not erased (`keepNotErased`). */
export async function dropErased<T>(
  registry: ErasureRegistry | undefined,
  items: readonly T[],
  userOf: (x: T) => string | null,
  tsOf: (x: T) => number,
): Promise<{ kept: T[]; dropped: number }> {
  if (!registry || items.length === 0) return { kept: [...items], dropped: 0 };
  const users = [...new Set(items.map(userOf).filter((u): u is string => u !== null))];
  if (users.length === 0) return { kept: [...items], dropped: 0 };
  return keepNotErased(items, await registry.erasedAt(users), userOf, tsOf);
}

/**
 * The registry, but for the users a lookup of a moment ago covered, its answer: a processor that
 * checked a batch's users on the way in asks again on the way out only for users it has not asked
 * about (the same round trip again is what an erasure between the two would have to beat, and the
 * sinks check once more before anything is stored).
 */
export function withKnownErasures(
  registry: ErasureRegistry,
  known: { readonly users: ReadonlySet<string>; readonly erased: ReadonlyMap<string, number> },
): ErasureRegistry {
  return {
    mark: (entries) => registry.mark(entries),
    count: () => registry.count(),
    async erasedAt(userIds) {
      const out = new Map<string, number>();
      const rest: string[] = [];
      for (const u of userIds) {
        if (!known.users.has(u)) rest.push(u);
        else {
          const at = known.erased.get(u);
          if (at !== undefined) out.set(u, at);
        }
      }
      if (rest.length > 0) for (const [u, at] of await registry.erasedAt(rest)) out.set(u, at);
      return out;
    },
  };
}

/**
 * The registry in memory (embedded mode, tests), keyed by the same salted hash as Redis.
 *
 * @example
 * const registry = createMemoryErasureRegistry({ salt: 'sentencify' });
 * await registry.mark([{ userId: 'u1', erasedAt: Date.now() }]);
 */
export function createMemoryErasureRegistry(opts: { salt: string }): ErasureRegistry & {
  snapshot(): Map<string, number>;
} {
  const m = new Map<string, number>();
  return {
    async mark(entries) {
      for (const e of entries) {
        const h = userHash(opts.salt, e.userId);
        m.set(h, Math.max(m.get(h) ?? Number.NEGATIVE_INFINITY, e.erasedAt));
      }
    },
    async erasedAt(userIds) {
      const out = new Map<string, number>();
      for (const u of userIds) {
        const at = m.get(userHash(opts.salt, u));
        if (at !== undefined) out.set(u, at);
      }
      return out;
    },
    count: async () => m.size,
    snapshot: () => new Map(m),
  };
}

/** KEYS[1] the hash; ARGV: field, time. Keeps the later time. */
const MARK = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

type WithMark = Redis & { sentencifyMarkErased(key: string, field: string, at: string): Promise<number> };

/**
 * The registry in Redis: the hash `<prefix>erased_users`, field = salted sha256 of the user id,
 * value = erasure time in ms. Durable as Redis is (AOF/RDB); without persistence a Redis restart
 * loses it, and a replay could then restore erased users — run Redis with persistence.
 *
 * @example
 * const registry = createRedisErasureRegistry(redis, { salt: 'sentencify', prefix: 'it-1:' });
 * const erased = await registry.erasedAt(['u1', 'u2']); // Map { 'u1' => 1764633600000 }
 */
export function createRedisErasureRegistry(
  redis: Redis,
  opts: { salt: string; prefix?: string },
): ErasureRegistry {
  const key = `${opts.prefix ?? ''}erased_users`;
  const r = redis as WithMark;
  if (typeof r.sentencifyMarkErased !== 'function')
    redis.defineCommand('sentencifyMarkErased', { numberOfKeys: 1, lua: MARK });
  return {
    async mark(entries) {
      if (entries.length === 0) return;
      const pipe = r.pipeline() as ReturnType<Redis['pipeline']> & {
        sentencifyMarkErased(...a: string[]): unknown;
      };
      for (const e of entries)
        pipe.sentencifyMarkErased(key, userHash(opts.salt, e.userId), String(Math.trunc(e.erasedAt)));
      for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
    },
    async erasedAt(userIds) {
      const out = new Map<string, number>();
      if (userIds.length === 0) return out;
      const vals = await redis.hmget(key, ...userIds.map((u) => userHash(opts.salt, u)));
      vals.forEach((v, i) => {
        if (v !== null) out.set(userIds[i]!, Number(v));
      });
      return out;
    },
    count: () => redis.hlen(key),
  };
}

/**
 * The earliest event time of a training example (its session's first event): an H of an erased
 * user is dropped when its session began at or before the erasure, even if a later event of the
 * same session came after it.
 */
export function exampleStartMs(h: {
  ts: string;
  recommended: { ts: string } | null;
  paraphrases: readonly { ts: string }[];
  selection: { ts: string } | null;
}): number {
  let t = Date.parse(h.ts);
  const at = (s: string) => {
    const v = Date.parse(s);
    if (v < t || Number.isNaN(t)) t = v;
  };
  if (h.recommended) at(h.recommended.ts);
  for (const p of h.paraphrases) at(p.ts);
  if (h.selection) at(h.selection.ts);
  return t;
}
