import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';
import { emptyProfile } from '../../streams/reducers/evolve-profile.ts';
import type { ClusterStore, ProfileStore } from '../../streams/stores/profile-store.ts';

function profile(user: string, partition: number, offset: number, sessions: number): UserProfile {
  return {
    ...emptyProfile(user),
    sessions,
    version: sessions,
    applied_offsets: { [String(partition)]: offset },
  };
}

const cluster = (id: number, top: string): ClusterProfile => ({
  cluster_id: id,
  version: 1,
  ts: '2026-01-01T00:00:00.000Z',
  size: 2,
  centroid: [0.1, 0.2],
  option_distribution: { [top]: 1 },
  top_option: top,
});

/** The same contract for every ProfileStore/ClusterStore implementation (CONVENTIONS #5). */
export function storeContract(
  name: string,
  make: () => Promise<{ profiles: ProfileStore; clusters: ClusterStore; cleanup?: () => Promise<void> }>,
) {
  describe(`${name} stores`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
    });
    const setup = async () => {
      const s = await make();
      cleanup = s.cleanup;
      return s;
    };

    it('reads back what it wrote, null for unknown users', async () => {
      const { profiles } = await setup();
      await profiles.putMany([profile('u1', 0, 3, 1), profile('u2', 1, 7, 2)]);
      const [a, b, c] = await profiles.getMany(['u1', 'u2', 'nobody']);
      expect(a).toEqual(profile('u1', 0, 3, 1));
      expect(b!.sessions).toBe(2);
      expect(c).toBeNull();
      expect(await profiles.count()).toBe(2);
    });

    it('never lets an older offset overwrite a newer profile', async () => {
      const { profiles } = await setup();
      await profiles.putMany([profile('u1', 0, 10, 5)]);
      await profiles.putMany([profile('u1', 0, 4, 2)]); // a zombie's stale write
      await profiles.putMany([profile('u1', 0, 10, 9)]); // a replay of the same offset
      expect((await profiles.getMany(['u1']))[0]!.sessions).toBe(5);
      await profiles.putMany([profile('u1', 0, 11, 6)]);
      expect((await profiles.getMany(['u1']))[0]!.sessions).toBe(6);
    });

    it('scans every profile in pages', async () => {
      const { profiles } = await setup();
      await profiles.putMany(Array.from({ length: 25 }, (_, i) => profile(`u${i}`, 0, i, 1)));
      const seen: string[] = [];
      for await (const page of profiles.scan(7)) seen.push(...page.map((p) => p.user_id));
      expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `u${i}`).sort());
    });

    it('replaces clusters and the user mapping as a whole', async () => {
      const { clusters } = await setup();
      await clusters.replace(
        [cluster(0, 'email:strong'), cluster(1, 'thesis:weak'), cluster(2, 'general:weak')],
        new Map([
          ['u1', 0],
          ['u2', 2],
        ]),
      );
      await clusters.replace(
        [cluster(0, 'report:moderate'), cluster(1, 'thesis:weak')],
        new Map([['u3', 1]]),
      );
      expect((await clusters.clusters()).map((c) => [c.cluster_id, c.top_option])).toEqual([
        [0, 'report:moderate'],
        [1, 'thesis:weak'],
      ]);
      expect(await clusters.clusterOf(['u1', 'u3'])).toEqual([null, 1]);
    });

    it('erases a user: the profile and the cluster mapping go, others stay, a second erase removes 0', async () => {
      const { profiles, clusters } = await setup();
      await profiles.putMany([profile('u1', 0, 3, 1), profile('u2', 1, 7, 2)]);
      await clusters.replace(
        [cluster(0, 'email:strong')],
        new Map([
          ['u1', 0],
          ['u2', 0],
        ]),
      );
      expect(await profiles.eraseUser!('u1')).toBe(1);
      expect(await clusters.eraseUser!('u1')).toBe(1);
      expect(await profiles.getMany(['u1', 'u2'])).toEqual([
        null,
        expect.objectContaining({ user_id: 'u2' }),
      ]);
      expect(await profiles.count()).toBe(1);
      const seen: string[] = [];
      for await (const page of profiles.scan()) seen.push(...page.map((p) => p.user_id));
      expect(seen).toEqual(['u2']);
      expect(await clusters.clusterOf(['u1', 'u2'])).toEqual([null, 0]);
      expect(await profiles.eraseUser!('u1')).toBe(0);
      expect(await clusters.eraseUser!('u1')).toBe(0);
    });
  });
}
