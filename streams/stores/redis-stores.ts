import type { Redis } from 'ioredis';
import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';
import { type ClusterStore, type ProfileStore, profileGuard } from './profile-store.ts';

/**
 * Writes a profile only if it carries a newer offset for its H partition than the one stored.
 * A Lua script rather than WATCH/MULTI: the check and the write are one atomic step on the server,
 * with no retry loop and no extra round trip, and it pipelines with the other writes of a batch.
 * It guards against a zombie instance (one that lost its partitions in a rebalance but still has a
 * batch in flight) overwriting a profile the new owner already moved past.
 *
 * KEYS[1] profile hash, KEYS[2] user index set; ARGV: partition, offset, json, version, user_id
 */
const PUT_PROFILE = `
local cur = redis.call('HGET', KEYS[1], 'offset:' .. ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[3], 'offset:' .. ARGV[1], ARGV[2], 'version', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return 1
`;

export interface RedisStoreOptions {
  /** Prepended to every key, so tests and tenants get their own namespace (default ""). */
  readonly prefix?: string;
}

type WithPutProfile = Redis & {
  sentencifyPutProfile(
    key: string,
    index: string,
    partition: string,
    offset: string,
    json: string,
    version: string,
    user: string,
  ): Promise<number>;
};

function withScript(redis: Redis): WithPutProfile {
  const r = redis as WithPutProfile;
  if (typeof r.sentencifyPutProfile !== 'function') {
    redis.defineCommand('sentencifyPutProfile', { numberOfKeys: 2, lua: PUT_PROFILE });
  }
  return r;
}

/**
 * G in Redis as the hash `user_profile:{user_id}` (field `data` holds the JSON; `offset:{p}` the
 * last applied H offset of partition p), plus a set of user ids for scans and counts.
 *
 * @example
 * const profiles = createRedisProfileStore(new Redis(url), { prefix: 'test-1:' });
 * await profiles.putMany([g]); const [again] = await profiles.getMany([g.user_id]);
 */
export function createRedisProfileStore(
  redis: Redis,
  opts: RedisStoreOptions = {},
): ProfileStore & {
  /** Profiles written vs skipped as stale by the last putMany calls (for metrics). */
  readonly writes: { applied: number; stale: number };
} {
  const prefix = opts.prefix ?? '';
  const key = (u: string) => `${prefix}user_profile:${u}`;
  const index = `${prefix}user_profiles`;
  const r = withScript(redis);
  const writes = { applied: 0, stale: 0 };
  const parse = (s: string | null) => (s === null ? null : (JSON.parse(s) as UserProfile));
  return {
    writes,
    async getMany(ids) {
      if (ids.length === 0) return [];
      const pipe = r.pipeline();
      for (const id of ids) pipe.hget(key(id), 'data');
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        return parse(v as string | null);
      });
    },
    async putMany(profiles) {
      if (profiles.length === 0) return;
      const pipe = r.pipeline() as ReturnType<Redis['pipeline']> & {
        sentencifyPutProfile(...args: string[]): unknown;
      };
      for (const p of profiles) {
        const [part, off] = profileGuard(p);
        pipe.sentencifyPutProfile(
          key(p.user_id),
          index,
          part,
          String(off),
          JSON.stringify(p),
          String(p.version),
          p.user_id,
        );
      }
      const res = (await pipe.exec()) ?? [];
      for (const [err, v] of res) {
        if (err) throw err;
        if (v === 1) writes.applied++;
        else writes.stale++;
      }
    },
    async *scan(pageSize = 500) {
      let cursor = '0';
      do {
        const [next, ids] = await r.sscan(index, cursor, 'COUNT', pageSize);
        cursor = next;
        if (ids.length > 0) {
          const page = (await this.getMany(ids)).filter((p): p is UserProfile => p !== null);
          if (page.length > 0) yield page;
        }
      } while (cursor !== '0');
    },
    count: () => r.scard(index),
    async eraseUser(userId) {
      const res = await r.multi().del(key(userId)).srem(index, userId).exec();
      for (const [err] of res ?? []) if (err) throw err;
      return Number(res?.[0]?.[1] ?? 0);
    },
  };
}

/**
 * J in Redis as `cluster_profile:{cluster_id}` (JSON), the user → cluster mapping in the hash
 * `user_cluster`, and the set of current cluster ids. `replace` swaps everything in one MULTI, so
 * readers never see clusters of one run with assignments of another.
 */
export function createRedisClusterStore(redis: Redis, opts: RedisStoreOptions = {}): ClusterStore {
  const prefix = opts.prefix ?? '';
  const ckey = (id: number | string) => `${prefix}cluster_profile:${id}`;
  const ids = `${prefix}cluster_ids`;
  const mapping = `${prefix}user_cluster`;
  return {
    async replace(clusters, assignments) {
      const old = await redis.smembers(ids);
      const tx = redis.multi();
      for (const id of old) tx.del(ckey(id));
      tx.del(ids, mapping);
      for (const c of clusters) {
        tx.set(ckey(c.cluster_id), JSON.stringify(c));
        tx.sadd(ids, String(c.cluster_id));
      }
      const entries = [...assignments];
      for (let i = 0; i < entries.length; i += 1000) {
        tx.hset(mapping, Object.fromEntries(entries.slice(i, i + 1000).map(([u, c]) => [u, String(c)])));
      }
      const res = await tx.exec();
      for (const [err] of res ?? []) if (err) throw err;
    },
    async clusters() {
      const list = await redis.smembers(ids);
      if (list.length === 0) return [];
      const vals = await redis.mget(list.map(ckey));
      return vals
        .filter((v): v is string => v !== null)
        .map((v) => JSON.parse(v) as ClusterProfile)
        .sort((a, b) => a.cluster_id - b.cluster_id);
    },
    async clusterOf(users) {
      if (users.length === 0) return [];
      const vals = await redis.hmget(mapping, ...users);
      return vals.map((v) => (v === null ? null : Number(v)));
    },
    eraseUser: (userId) => redis.hdel(mapping, userId),
  };
}
