import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { createRedisDocStore } from '../../streams/stores/doc-store.ts';
import { docStoreContract } from '../helpers/doc-store-contract.ts';

const svc = inject('services');

describe.skipIf(!svc.ok)('Redis doc store', () => {
  const open = () => {
    const redis = new Redis(svc.redisUrl);
    const prefix = `test-${randomUUID()}:`;
    const cleanup = async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    };
    return { redis, prefix, cleanup };
  };

  docStoreContract('Redis', async () => {
    const { redis, prefix, cleanup } = open();
    return { docs: createRedisDocStore(redis, { prefix }), cleanup };
  });

  it('keeps every key under the prefix with a TTL, and an erasure leaves no key of the user', async () => {
    const { redis, prefix, cleanup } = open();
    try {
      const docs = createRedisDocStore(redis, { prefix, ttlDays: 1 });
      await docs.recordChoice('doc-1', 'rs-1', 'thesis/moderate', 'alice');
      await docs.recordChoice('doc-1', 'rs-2', 'email/strong', 'bob');
      const keys = (await redis.keys(`${prefix}*`)).sort();
      expect(keys).toEqual(
        [
          'doc_choices:alice',
          'doc_choices:bob',
          'doc_options:doc-1',
          'doc_sessions:doc-1',
          'doc_users:doc-1',
        ].map((k) => prefix + k),
      );
      for (const k of keys) expect(await redis.ttl(k)).toBeGreaterThan(86_000);
      expect(await docs.eraseUser('alice')).toBe(1);
      expect(await redis.exists(`${prefix}doc_choices:alice`)).toBe(0);
      expect(await redis.smembers(`${prefix}doc_sessions:doc-1`)).toEqual(['rs-2']);
      expect(await redis.hgetall(`${prefix}doc_options:doc-1`)).toEqual({ 'email/strong': '1' });
      expect(await redis.smembers(`${prefix}doc_users:doc-1`)).toEqual(['bob']);
    } finally {
      await cleanup();
    }
  });

  it('a quiet writer’s choices live as long as the document: another writer’s choice renews them', async () => {
    const { redis, prefix, cleanup } = open();
    try {
      const docs = createRedisDocStore(redis, { prefix, ttlDays: 1 });
      await docs.recordChoice('shared', 'rs-1', 'thesis/moderate', 'alice');
      // Alice's index has nearly run out (she has been quiet); Bob keeps writing in the document.
      await redis.expire(`${prefix}doc_choices:alice`, 5);
      await docs.recordChoice('shared', 'rs-2', 'email/strong', 'bob');
      expect(await redis.ttl(`${prefix}doc_choices:alice`)).toBeGreaterThan(86_000);
      expect(await docs.eraseUser('alice')).toBe(1);
      expect(await docs.history('shared')).toEqual({ 'email/strong': 1 });
    } finally {
      await cleanup();
    }
  });
});
