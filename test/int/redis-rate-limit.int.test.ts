import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { createRedisRateLimiter } from '../../api/auth/rate-limit.ts';
import { rateLimitContract } from '../helpers/rate-limit-contract.ts';

const svc = inject('services');

describe.skipIf(!svc.ok)('Redis rate limiter', () => {
  const open = () => {
    const a = new Redis(svc.redisUrl);
    const b = new Redis(svc.redisUrl);
    const prefix = `test-${randomUUID()}:`;
    const cleanup = async () => {
      const keys = await a.keys(`${prefix}*`);
      if (keys.length > 0) await a.del(...keys);
      a.disconnect();
      b.disconnect();
    };
    return { a, b, prefix, cleanup };
  };

  rateLimitContract(
    'Redis',
    async (o) => {
      const { a, b, prefix, cleanup } = open();
      let now = Date.parse('2026-12-02T00:00:00Z');
      const clock = () => now;
      return {
        limiter: createRedisRateLimiter(a, { ...o, clock, prefix }),
        // A second API process: its own client, the same buckets.
        peer: createRedisRateLimiter(b, { ...o, clock, prefix }),
        advance: (ms) => {
          now += ms;
        },
        cleanup,
      };
    },
    true,
  );

  it('keeps one key per API key under the prefix, expiring once the bucket would be full again', async () => {
    const { a, prefix, cleanup } = open();
    try {
      const l = createRedisRateLimiter(a, { perMinute: 60, burst: 30, clock: Date.now, prefix });
      await l.take('editor');
      expect(await a.keys(`${prefix}*`)).toEqual([`${prefix}rate_limit:editor`]);
      const ttl = await a.pttl(`${prefix}rate_limit:editor`);
      expect(ttl).toBeGreaterThan(25_000);
      expect(ttl).toBeLessThanOrEqual(31_000);
    } finally {
      await cleanup();
    }
  });
});
