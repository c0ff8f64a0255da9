import type { Redis } from 'ioredis';

/** What a take from the limiter says: go on, or wait this many whole seconds. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

export interface RateLimiter {
  take(key: string): RateDecision | Promise<RateDecision>;
}

export interface RateLimitOptions {
  /** Sustained requests a minute per key; 0 turns the limiter off. */
  readonly perMinute: number;
  /** Requests a key may make at once after being idle (the bucket's size); default `perMinute`. */
  readonly burst?: number;
  readonly clock: () => number;
}

/** A bucket's size and its refill per ms (both limiters' buckets are the same). */
const bucketOf = (o: RateLimitOptions) => ({
  capacity: Math.max(1, o.burst ?? o.perMinute),
  perMs: o.perMinute / 60_000,
});

/** A refusal with the whole seconds until the bucket holds one token again. */
const refused = (tokens: number, perMs: number): RateDecision => ({
  ok: false,
  retryAfterS: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
});

/**
 * A token bucket per key, in this process's memory: each API process limits on its own, so N
 * processes behind a balancer would allow N times the rate (`npm run api` shares its buckets in
 * Redis instead: createRedisRateLimiter). Keys are the configured API keys, a bounded set, so
 * buckets are never evicted.
 *
 * @example
 * const limiter = createRateLimiter({ perMinute: 600, clock: Date.now });
 * const d = limiter.take('editor');
 * if (!d.ok) res.headers.set('retry-after', String(d.retryAfterS));
 */
export function createRateLimiter(o: RateLimitOptions): { take(key: string): RateDecision } {
  if (o.perMinute <= 0) return { take: () => ({ ok: true }) };
  const { capacity, perMs } = bucketOf(o);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const now = o.clock();
      const b = buckets.get(key) ?? { tokens: capacity, at: now };
      b.tokens = Math.min(capacity, b.tokens + Math.max(0, now - b.at) * perMs);
      b.at = now;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      return refused(b.tokens, perMs);
    },
  };
}

/** The bucket of one key, refilled and taken from in one step (KEYS[1]; ARGV: now ms, capacity, per ms, ttl ms). */
const TAKE = `
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local now, capacity, perMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, at = tonumber(b[1]) or capacity, tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {ok, tostring(tokens)}
`;

type WithTake = Redis & {
  sentencifyRateTake(
    key: string,
    now: number,
    capacity: number,
    perMs: number,
    ttlMs: number,
  ): Promise<[number, string]>;
};

function withTake(redis: Redis): WithTake {
  const r = redis as WithTake;
  if (typeof r.sentencifyRateTake !== 'function')
    redis.defineCommand('sentencifyRateTake', { numberOfKeys: 1, lua: TAKE });
  return r;
}

/**
 * The same token bucket per key, kept in Redis (`<prefix>rate_limit:{key}`, one Lua script per
 * take), so every API process and host behind a balancer shares one budget per key. The time is
 * the caller's clock (keep the hosts' clocks in sync; a clock behind only refills later). A key's
 * bucket expires once it would be full again. When Redis cannot answer, the request goes through
 * and `onError` is told: a rate limit is not worth an outage.
 *
 * @example
 * const limiter = createRedisRateLimiter(redis, { perMinute: 600, clock: Date.now, prefix: 'sentencify:' });
 * const d = await limiter.take('editor');
 */
export function createRedisRateLimiter(
  redis: Redis,
  o: RateLimitOptions & { readonly prefix?: string; readonly onError?: (err: unknown) => void },
): RateLimiter {
  if (o.perMinute <= 0) return { take: () => ({ ok: true }) };
  const { capacity, perMs } = bucketOf(o);
  const ttlMs = Math.ceil(capacity / perMs) + 1_000;
  const prefix = o.prefix ?? '';
  const r = withTake(redis);
  return {
    async take(key) {
      let out: unknown;
      try {
        out = await r.sentencifyRateTake(`${prefix}rate_limit:${key}`, o.clock(), capacity, perMs, ttlMs);
      } catch (err) {
        o.onError?.(err);
        return { ok: true };
      }
      const [ok, tokens] = out as [number, string];
      if (ok === 1) return { ok: true };
      return refused(Number(tokens), perMs);
    },
  };
}
