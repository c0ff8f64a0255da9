import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import {
  createRedisIdempotencyStore,
  createRedisSessionRegistry,
} from '../../api/sessions/redis-sessions.ts';
import { sessionStoreContract } from '../helpers/session-contract.ts';

const svc = inject('services');

describe.skipIf(!svc.ok)('Redis sessions', () => {
  sessionStoreContract('Redis', async (ttls) => {
    const redis = new Redis(svc.redisUrl);
    const prefix = `test-${randomUUID()}:`;
    return {
      registry: createRedisSessionRegistry(redis, { prefix, ttlMs: ttls.sessionTtlMs }),
      idempotency: createRedisIdempotencyStore(redis, {
        prefix,
        ttlMs: ttls.idempotencyTtlMs,
        pendingTtlMs: ttls.pendingTtlMs,
      }),
      // Real time: Redis expires a key on access once its PX has passed.
      elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
      cleanup: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  });

  it('shares sessions between two clients (two API processes) and keeps every key under the prefix with a TTL', async () => {
    const prefix = `test-${randomUUID()}:`;
    const a = new Redis(svc.redisUrl);
    const b = new Redis(svc.redisUrl);
    try {
      const onA = createRedisSessionRegistry(a, { prefix, ttlMs: 60_000 });
      const onB = createRedisSessionRegistry(b, { prefix, ttlMs: 60_000 });
      expect(await onA.open('rs-1', { user_id: 'alice', language: 'en', doc_id: null })).toBe(true);
      expect(await onB.open('rs-1', { user_id: 'mallory', language: 'en', doc_id: null })).toBe(false);
      expect((await onB.get('rs-1'))!.user_id).toBe('alice');
      expect(await onB.claimSelection('rs-1', { event_id: 'c1', ts: '2026-03-02T09:00:00.000Z' })).toBeNull();
      expect(
        await onA.claimSelection('rs-1', { event_id: 'c2', ts: '2026-03-02T09:00:01.000Z' }),
      ).toMatchObject({
        event_id: 'c1',
      });
      await createRedisIdempotencyStore(a, { prefix }).begin('k', 'f', 'alice');
      const keys = await a.keys(`${prefix}*`);
      expect(keys.sort()).toEqual([
        `${prefix}idempotency:k`,
        `${prefix}recommend_session:rs-1`,
        // alice's index, which erasure reads
        `${prefix}user_writes:alice`,
      ]);
      for (const k of keys) expect(await a.pttl(k)).toBeGreaterThan(0);
      await a.del(...keys);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});
