import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../api/auth/rate-limit.ts';

/** A limiter on a clock the test moves (`advance`), and a second limiter sharing its buckets if it can. */
export interface RateLimitSubject {
  readonly limiter: RateLimiter;
  advance(ms: number): void;
  /** Another instance over the same buckets (another API process), where the limiter shares them. */
  readonly peer?: RateLimiter;
  cleanup?: () => Promise<void>;
}

/**
 * The same contract for every RateLimiter (CONVENTIONS #5): the in-memory buckets
 * (test/unit/api/auth/rate-limit.unit.test.ts) and Redis (test/int/redis-rate-limit.int.test.ts).
 */
export function rateLimitContract(
  name: string,
  make: (o: { perMinute: number; burst?: number }) => Promise<RateLimitSubject>,
  /** Whether instances share buckets (Redis): then `peer` is required and the sharing is tested. */
  shared = false,
) {
  describe(`${name} rate limiter`, () => {
    const run = async (
      o: { perMinute: number; burst?: number },
      body: (s: RateLimitSubject) => Promise<void>,
    ) => {
      const s = await make(o);
      try {
        await body(s);
      } finally {
        await s.cleanup?.();
      }
    };
    const oks = async (l: RateLimiter, key: string, n: number) => {
      const out: boolean[] = [];
      for (let i = 0; i < n; i++) out.push((await l.take(key)).ok);
      return out;
    };

    it('lets a burst through, then says how long to wait, per key', () =>
      run({ perMinute: 60, burst: 3 }, async ({ limiter: l, advance }) => {
        expect(await oks(l, 'a', 3)).toEqual([true, true, true]);
        expect(await l.take('a')).toEqual({ ok: false, retryAfterS: 1 });
        // Another key has its own bucket.
        expect((await l.take('b')).ok).toBe(true);
        advance(1_000);
        expect(await oks(l, 'a', 2)).toEqual([true, false]);
      }));

    it('refills at perMinute/60 a second up to the burst, and Retry-After is whole seconds', () =>
      run({ perMinute: 6, burst: 2 }, async ({ limiter: l, advance }) => {
        await oks(l, 'a', 2);
        expect(await l.take('a')).toEqual({ ok: false, retryAfterS: 10 });
        advance(4_000);
        expect(await l.take('a')).toEqual({ ok: false, retryAfterS: 6 });
        advance(600_000);
        expect(await oks(l, 'a', 3)).toEqual([true, true, false]);
      }));

    it('burst defaults to a minute of requests; 0 is no limit', async () => {
      await run({ perMinute: 5 }, async ({ limiter }) => {
        expect(await oks(limiter, 'a', 6)).toEqual([true, true, true, true, true, false]);
      });
      await run({ perMinute: 0 }, async ({ limiter }) => {
        expect((await oks(limiter, 'a', 1000)).every(Boolean)).toBe(true);
      });
    });

    if (shared)
      it('two instances spend one budget per key', () =>
        run({ perMinute: 60, burst: 4 }, async ({ limiter, peer }) => {
          expect(peer, 'a shared limiter gives its peer').toBeDefined();
          if (!peer) return;
          expect([...(await oks(limiter, 'a', 2)), ...(await oks(peer, 'a', 3))]).toEqual([
            true,
            true,
            true,
            true,
            false,
          ]);
          expect((await limiter.take('a')).ok).toBe(false);
        }));
  });
}
