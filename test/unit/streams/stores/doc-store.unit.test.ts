import { describe, expect, it } from 'vitest';
import { createMemoryDocStore } from '../../../../streams/stores/doc-store.ts';
import { docStoreContract } from '../../../helpers/doc-store-contract.ts';

docStoreContract('in-memory', async () => ({ docs: createMemoryDocStore() }));

describe('in-memory doc store bounds', () => {
  it('drops the oldest document past maxDocs, with it the users’ entries; an erasure still works', async () => {
    const docs = createMemoryDocStore(2);
    await docs.recordChoice('d1', 's1', 'a', 'alice');
    await docs.recordChoice('d2', 's2', 'a', 'alice');
    await docs.recordChoice('d3', 's3', 'b', 'bob');
    expect(await docs.history('d1')).toEqual({});
    expect(await docs.history('d2')).toEqual({ a: 1 });
    expect(await docs.eraseUser('alice')).toBe(1);
    expect(await docs.eraseUser('bob')).toBe(1);
    expect(await docs.history('d3')).toEqual({});
  });
});
