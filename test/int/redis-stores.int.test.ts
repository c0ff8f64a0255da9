import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, inject } from 'vitest';
import { createRedisClusterStore, createRedisProfileStore } from '../../streams/stores/redis-stores.ts';
import { storeContract } from '../helpers/store-contract.ts';

const svc = inject('services');

describe.skipIf(!svc.ok)('Redis', () => {
  storeContract('Redis', async () => {
    const redis = new Redis(svc.redisUrl);
    const prefix = `test-${randomUUID()}:`;
    return {
      profiles: createRedisProfileStore(redis, { prefix }),
      clusters: createRedisClusterStore(redis, { prefix }),
      cleanup: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  });
});
