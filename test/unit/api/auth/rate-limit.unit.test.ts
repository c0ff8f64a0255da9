import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../../api/auth/rate-limit.ts';

describe('createRateLimiter', () => {
  it('lets a burst through, then says how long to wait, per key', () => {
    let now = 0;
    const l = createRateLimiter({ perMinute: 60, burst: 3, clock: () => now });
    expect([1, 2, 3].map(() => l.take('a').ok)).toEqual([true, true, true]);
    expect(l.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    // Another key has its own bucket.
    expect(l.take('b').ok).toBe(true);
    now += 1_000;
    expect(l.take('a').ok).toBe(true);
    expect(l.take('a').ok).toBe(false);
  });

  it('refills at perMinute/60 a second up to the burst, and Retry-After is whole seconds', () => {
    let now = 0;
    const l = createRateLimiter({ perMinute: 6, burst: 2, clock: () => now });
    l.take('a');
    l.take('a');
    expect(l.take('a')).toEqual({ ok: false, retryAfterS: 10 });
    now += 4_000;
    expect(l.take('a')).toEqual({ ok: false, retryAfterS: 6 });
    now += 600_000;
    expect([l.take('a').ok, l.take('a').ok, l.take('a').ok]).toEqual([true, true, false]);
  });

  it('burst defaults to a minute of requests; 0 is no limit', () => {
    const l = createRateLimiter({ perMinute: 5, clock: () => 0 });
    expect(Array.from({ length: 6 }, () => l.take('a').ok)).toEqual([true, true, true, true, true, false]);
    const off = createRateLimiter({ perMinute: 0, clock: () => 0 });
    expect(Array.from({ length: 1000 }, () => off.take('a').ok).every(Boolean)).toBe(true);
  });
});
