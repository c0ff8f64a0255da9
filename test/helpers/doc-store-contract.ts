import { afterEach, describe, expect, it } from 'vitest';
import type { DocStore } from '../../streams/stores/doc-store.ts';

/**
 * The same contract for every DocStore (CONVENTIONS #5): the in-memory twin
 * (test/unit/streams/stores/doc-store.unit.test.ts) and Redis (test/int/redis-doc-store.int.test.ts).
 */
export function docStoreContract(
  name: string,
  make: () => Promise<{ docs: DocStore; cleanup?: () => Promise<void> }>,
) {
  describe(`${name} doc store`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
    const setup = async () => {
      const s = await make();
      cleanup = s.cleanup;
      return s.docs;
    };

    it('counts each session’s choice once per document', async () => {
      const docs = await setup();
      await docs.recordChoice('doc-1', 'rs-1', 'thesis/moderate', 'alice');
      await docs.recordChoice('doc-1', 'rs-1', 'thesis/moderate', 'alice'); // a retried /paraphrase
      await docs.recordChoice('doc-1', 'rs-2', 'thesis/moderate', 'alice');
      await docs.recordChoice('doc-1', 'rs-3', 'email/strong', 'alice');
      await docs.recordChoice('doc-2', 'rs-4', 'email/strong', 'alice');
      expect(await docs.history('doc-1')).toEqual({ 'thesis/moderate': 2, 'email/strong': 1 });
      expect(await docs.history('doc-2')).toEqual({ 'email/strong': 1 });
      expect(await docs.history('nothing')).toEqual({});
    });

    it('an erasure takes back exactly the user’s choices, in every document; again it takes nothing', async () => {
      const docs = await setup();
      await docs.recordChoice('shared', 'rs-a1', 'thesis/moderate', 'alice');
      await docs.recordChoice('shared', 'rs-b1', 'thesis/moderate', 'bob');
      await docs.recordChoice('shared', 'rs-a2', 'email/strong', 'alice');
      await docs.recordChoice('alice-only', 'rs-a3', 'report/weak', 'alice');
      await docs.recordChoice('bob-only', 'rs-b2', 'report/weak', 'bob');
      expect(await docs.eraseUser('alice')).toBe(3);
      expect(await docs.history('shared')).toEqual({ 'thesis/moderate': 1 });
      expect(await docs.history('alice-only')).toEqual({});
      expect(await docs.history('bob-only')).toEqual({ 'report/weak': 1 });
      expect(await docs.eraseUser('alice')).toBe(0);
      expect(await docs.eraseUser('nobody')).toBe(0);
      // The user's later choices count again (an erasure is not a ban), and are erasable again.
      await docs.recordChoice('shared', 'rs-a4', 'email/strong', 'alice');
      expect(await docs.history('shared')).toEqual({ 'thesis/moderate': 1, 'email/strong': 1 });
      expect(await docs.eraseUser('alice')).toBe(1);
      expect(await docs.history('shared')).toEqual({ 'thesis/moderate': 1 });
    });

    it('keeps ids with separators apart (colons, spaces, a NUL, digits that look like a length)', async () => {
      const docs = await setup();
      await docs.recordChoice('doc:with:colons', 'rs 1', 'thesis/moderate', 'user:1');
      await docs.recordChoice('doc:with:colons', 'rs 2', 'thesis/moderate', 'user:2');
      await docs.recordChoice('doc\u0000nul', 'rs\u00003', 'email/strong', 'user:1');
      await docs.recordChoice('12:34', '5:6', 'report/weak', 'user:1');
      await docs.recordChoice('문서-가', '세션-1', 'report/weak', 'user:1');
      expect(await docs.eraseUser('user:1')).toBe(4);
      expect(await docs.history('doc:with:colons')).toEqual({ 'thesis/moderate': 1 });
      expect(await docs.history('doc\u0000nul')).toEqual({});
      expect(await docs.history('12:34')).toEqual({});
      expect(await docs.history('문서-가')).toEqual({});
    });
  });
}
