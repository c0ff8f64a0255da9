/** What a take from the limiter says: go on, or wait this many whole seconds. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

export interface RateLimiter {
  take(key: string): RateDecision;
}

export interface RateLimitOptions {
  /** Sustained requests a minute per key; 0 turns the limiter off. */
  readonly perMinute: number;
  /** Requests a key may make at once after being idle (the bucket's size); default `perMinute`. */
  readonly burst?: number;
  readonly clock: () => number;
}

/**
 * A token bucket per key, in this process's memory: each API process limits on its own, so N
 * processes behind a balancer allow N times the rate. Keys are the configured API keys, a bounded
 * set, so buckets are never evicted.
 *
 * @example
 * const limiter = createRateLimiter({ perMinute: 600, clock: Date.now });
 * const d = limiter.take('editor');
 * if (!d.ok) res.headers.set('retry-after', String(d.retryAfterS));
 */
export function createRateLimiter(o: RateLimitOptions): RateLimiter {
  if (o.perMinute <= 0) return { take: () => ({ ok: true }) };
  const capacity = Math.max(1, o.burst ?? o.perMinute);
  const perMs = o.perMinute / 60_000;
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
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
    },
  };
}
