import { MongoBulkWriteError, type MongoClient, MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { SinkError } from '../../../../streams/sinks/sink.ts';
import { createMongoStores } from '../../../../streams/stores/mongo-stores.ts';
import { archivedEvent, example } from '../../../helpers/mongo-contract.ts';

/**
 * How the adapter maps the driver's failures, on a fake collection (the real servers are in
 * test/int/mongo-stores.int.test.ts): what is retried, what is rejected, what is read back.
 */
type Call = (docs: { _id: string }[]) => Promise<unknown>;

function fakeClient(over: {
  insertMany?: Call;
  bulkWrite?: Call;
  found?: () => { _id: string; revision?: number }[];
}) {
  const calls: { op: string; n: number }[] = [];
  const collection = {
    insertMany: async (docs: { _id: string }[]) => {
      calls.push({ op: 'insertMany', n: docs.length });
      return over.insertMany ? over.insertMany(docs) : { insertedCount: docs.length };
    },
    bulkWrite: async (ops: { _id: string }[]) => {
      calls.push({ op: 'bulkWrite', n: ops.length });
      return over.bulkWrite ? over.bulkWrite(ops) : {};
    },
    find: () => ({ toArray: async () => over.found?.() ?? [] }),
  };
  const client = { db: () => ({ collection: () => collection }) } as unknown as MongoClient;
  return { client, calls };
}

const bulkError = (writeErrors: { index: number; code: number; errmsg: string }[], wce?: unknown) =>
  new MongoBulkWriteError(
    {
      message: writeErrors[0]?.errmsg ?? 'write concern',
      code: writeErrors[0]?.code ?? 64,
      writeErrors: writeErrors as never,
    },
    { getWriteConcernError: () => wce } as never,
  );

/** The server's message for a duplicate key on `index` (MongoDB's wording, the local server's too). */
const dup = (index: string, key = '{ _id: "e1" }') =>
  `E11000 duplicate key error collection: sentencify.events index: ${index} dup key: ${key}`;

describe('MongoDB adapter failures', () => {
  it('a network failure is retriable', async () => {
    const { client } = fakeClient({
      insertMany: async () => {
        throw new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27018');
      },
    });
    const err = await createMongoStores(client)
      .archive.insertEvents([archivedEvent('e1')])
      .catch((e) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ retriable: true, code: 'mongo_unavailable' });
  });

  it('an authorisation failure stops the sink (not retriable)', async () => {
    const { client } = fakeClient({
      insertMany: async () => {
        throw new MongoServerError({ message: 'not authorized on sentencify', code: 13 });
      },
    });
    await expect(createMongoStores(client).archive.insertEvents([archivedEvent('e1')])).rejects.toMatchObject(
      {
        retriable: false,
        code: 'mongo_fatal',
      },
    );
  });

  it('duplicates are counted, other per-document errors rejected with the reason, the rest confirmed by reading back', async () => {
    const { client, calls } = fakeClient({
      insertMany: async () => {
        throw bulkError([
          { index: 0, code: 11000, errmsg: dup('_id_') },
          { index: 2, code: 121, errmsg: 'Document failed validation' },
        ]);
      },
      found: () => [{ _id: 'e2' }],
    });
    const out = await createMongoStores(client).archive.insertEvents([
      archivedEvent('e1'),
      archivedEvent('e2'),
      archivedEvent('e3'),
    ]);
    expect(out.inserted).toBe(1);
    expect(out.duplicates).toBe(1);
    expect(out.rejected).toEqual([
      { index: 2, reason: 'MongoDB refused it (code 121): Document failed validation' },
    ]);
    expect(calls).toEqual([{ op: 'insertMany', n: 3 }]);
  });

  it('only a duplicate key on _id is "already archived": another unique index is a rejection, an unnamed one is read back', async () => {
    const { client, calls } = fakeClient({
      insertMany: async () => {
        throw bulkError([
          { index: 0, code: 11000, errmsg: dup('_id_') },
          { index: 1, code: 11000, errmsg: dup('source_unique', '{ source: "x" }') },
          { index: 2, code: 11000, errmsg: 'E11000 duplicate key error' },
          { index: 3, code: 11000, errmsg: 'E11000 duplicate key error' },
        ]);
      },
      // e3's _id is there (its unnamed E11000 was on _id); e4's is not (it collided elsewhere).
      found: () => [{ _id: 'e3' }, { _id: 'e5' }],
    });
    const out = await createMongoStores(client).archive.insertEvents(
      ['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => archivedEvent(id)),
    );
    expect(out.inserted).toBe(1);
    expect(out.duplicates).toBe(2);
    expect(out.rejected.map((r) => r.index)).toEqual([1, 3]);
    expect(out.rejected[0]!.reason).toMatch(/code 11000.*index: source_unique/);
    expect(calls).toEqual([{ op: 'insertMany', n: 5 }]);
  });

  it('a document a server skipped without an error is sent again', async () => {
    let round = 0;
    const { client, calls } = fakeClient({
      insertMany: async () => {
        round += 1;
        if (round === 1) throw bulkError([{ index: 0, code: 11000, errmsg: dup('_id_') }]);
        return {};
      },
      found: () => [],
    });
    const out = await createMongoStores(client).archive.insertEvents([
      archivedEvent('e1'),
      archivedEvent('e2'),
    ]);
    expect(out).toEqual({ inserted: 1, duplicates: 1, rejected: [] });
    expect(calls).toEqual([
      { op: 'insertMany', n: 2 },
      { op: 'insertMany', n: 1 },
    ]);
  });

  it('a retriable per-document error or a write-concern error retries the batch', async () => {
    for (const err of [
      bulkError([{ index: 1, code: 91, errmsg: 'shutting down' }]),
      bulkError([{ index: 0, code: 11000, errmsg: 'E11000' }], {
        code: 64,
        errmsg: 'waiting for replication timed out',
      }),
      bulkError([]),
    ]) {
      const { client } = fakeClient({
        insertMany: async () => {
          throw err;
        },
      });
      await expect(
        createMongoStores(client).archive.insertEvents([archivedEvent('e1'), archivedEvent('e2')]),
      ).rejects.toMatchObject({ retriable: true });
    }
  });

  it('a stale upsert is stale, and an operation the server skipped after it is written again', async () => {
    let round = 0;
    const { client, calls } = fakeClient({
      bulkWrite: async () => {
        round += 1;
        if (round === 1) throw bulkError([{ index: 0, code: 11000, errmsg: 'E11000' }]);
        return {};
      },
      // s1 holds a newer revision; s2 was skipped (still at an older one).
      found: () => [
        { _id: 's1', revision: 9 },
        { _id: 's2', revision: 1 },
      ],
    });
    const out = await createMongoStores(client).examples.upsertLatest([example('s1', 2), example('s2', 3)]);
    expect(out).toEqual({ upserted: 1, stale: 1, rejected: [] });
    expect(calls).toEqual([
      { op: 'bulkWrite', n: 2 },
      { op: 'bulkWrite', n: 1 },
    ]);
  });

  it('an upsert that collides on a unique index other than _id is rejected, not taken for stale', async () => {
    const { client } = fakeClient({
      bulkWrite: async () => {
        throw bulkError([{ index: 0, code: 11000, errmsg: dup('user_unique', '{ user_id: "u" }') }]);
      },
      found: () => [{ _id: 's2', revision: 3 }],
    });
    const out = await createMongoStores(client).examples.upsertLatest([example('s1', 2), example('s2', 3)]);
    expect(out.upserted).toBe(1);
    expect(out.stale).toBe(0);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]).toMatchObject({ index: 0 });
    expect(out.rejected[0]!.reason).toMatch(/index: user_unique/);
  });

  it('gives up, retriably, when a server keeps skipping', async () => {
    const { client } = fakeClient({
      insertMany: async () => {
        throw bulkError([{ index: 0, code: 11000, errmsg: dup('_id_') }]);
      },
      found: () => [],
    });
    // Each round one duplicate is reported and the rest silently skipped.
    const docs = ['e1', 'e2', 'e3', 'e4'].map((id) => archivedEvent(id));
    await expect(createMongoStores(client).archive.insertEvents(docs)).rejects.toMatchObject({
      retriable: true,
      code: 'mongo_incomplete',
    });
  });
});
