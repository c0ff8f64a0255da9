import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';

/**
 * Where G lives (Redis in production: `user_profile:{user_id}`). The fold is the only writer of
 * a user's profile (H is keyed by user_id), so a plain write after the pure fold is enough; the
 * profile carries its own last applied offsets, which makes writing it twice harmless.
 */
export interface ProfileStore {
  getMany(userIds: readonly string[]): Promise<(UserProfile | null)[]>;
  putMany(profiles: readonly UserProfile[]): Promise<void>;
  /** Every profile, in pages, for re-clustering. */
  scan(pageSize?: number): AsyncIterable<UserProfile[]>;
  count(): Promise<number>;
  /** Removes the user's profile (erasure); how many were removed (0 or 1). */
  eraseUser?(userId: string): Promise<number>;
}

/** Where J and the user → cluster mapping live (Redis: `cluster_profile:{cluster_id}`). */
export interface ClusterStore {
  /** Replaces every cluster and the whole mapping in one go. */
  replace(clusters: readonly ClusterProfile[], assignments: ReadonlyMap<string, number>): Promise<void>;
  clusters(): Promise<ClusterProfile[]>;
  clusterOf(userIds: readonly string[]): Promise<(number | null)[]>;
  /**
   * Removes the user from the user → cluster mapping (erasure); how many entries were removed.
   * The clusters themselves are aggregates over many users and are recomputed by the next run.
   */
  eraseUser?(userId: string): Promise<number>;
}

/** The partition a profile write is guarded by (the one it was last folded from) and its offset. */
export function profileGuard(p: UserProfile): [string, number] {
  let best: [string, number] = ['-', -1];
  for (const [part, off] of Object.entries(p.applied_offsets)) if (off > best[1]) best = [part, off];
  return best;
}

/**
 * The in-memory twin of the Redis profile store, with the same stale-write guard: a profile is
 * written only if its guard offset is newer than the stored one for that partition.
 */
export function createMemoryProfileStore(): ProfileStore & { snapshot(): Map<string, UserProfile> } {
  const m = new Map<string, UserProfile>();
  return {
    getMany: async (ids) => ids.map((id) => m.get(id) ?? null),
    putMany: async (ps) => {
      for (const p of ps) {
        const [part, off] = profileGuard(p);
        const cur = m.get(p.user_id)?.applied_offsets[part];
        if (cur !== undefined && cur >= off) continue;
        m.set(p.user_id, p);
      }
    },
    async *scan(pageSize = 1000) {
      const all = [...m.values()];
      for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
    },
    count: async () => m.size,
    eraseUser: async (userId) => (m.delete(userId) ? 1 : 0),
    snapshot: () => new Map(m),
  };
}

export function createMemoryClusterStore(): ClusterStore {
  let clusters: ClusterProfile[] = [];
  let mapping = new Map<string, number>();
  return {
    replace: async (cs, a) => {
      clusters = [...cs];
      mapping = new Map(a);
    },
    clusters: async () => [...clusters],
    clusterOf: async (ids) => ids.map((id) => mapping.get(id) ?? null),
    eraseUser: async (userId) => (mapping.delete(userId) ? 1 : 0),
  };
}
