import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, createRedisRateLimiter } from '../../../../api/auth/rate-limit.ts';
import { rateLimitContract } from '../../../helpers/rate-limit-contract.ts';

rateLimitContract('in-memory', async (o) => {
  let now = 0;
  return {
    limiter: createRateLimiter({ ...o, clock: () => now }),
    advance: (ms) => {
      now += ms;
    },
  };
});

describe('createRedisRateLimiter', () => {
  it('lets the request through and says why when Redis cannot answer', async () => {
    const errors: unknown[] = [];
    // A client of a port nobody listens on, which fails each command at once instead of queueing it.
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const l = createRedisRateLimiter(down, {
        perMinute: 1,
        burst: 1,
        clock: () => 0,
        onError: (e) => errors.push(e),
      });
      expect(await l.take('a')).toEqual({ ok: true });
      expect(await l.take('a')).toEqual({ ok: true });
      expect(errors).toHaveLength(2);
    } finally {
      down.disconnect();
    }
  });
});
