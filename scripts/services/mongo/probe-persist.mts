// Checks by hand that a local MongoDB-compatible server keeps acknowledged writes across a stop:
// `write` inserts N ~3 KB documents and raises 50 of them to revision 2 with the sinks' guarded
// upsert, `count` prints what is there, `drop` removes the probe's database. Between write and
// count, stop the server (down.sh --only mongo, or kill -9 its pid) and start it again.
//
//   MONGODB_URL=mongodb://127.0.0.1:27018/ npx tsx scripts/services/mongo/probe-persist.mts write|count|drop [N]
import { MongoClient } from 'mongodb';

const [mode, n] = [process.argv[2], Number(process.argv[3] ?? 500)];
const c = new MongoClient(process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27018/', {
  serverSelectionTimeoutMS: 5000,
});
const col = c.db('probe_persist').collection<{ _id: string; revision: number; body: string }>('t');
try {
  if (mode === 'write') {
    const base = await col.countDocuments();
    await col.insertMany(
      Array.from({ length: n }, (_, i) => ({ _id: `d${base + i}`, revision: 1, body: 'y'.repeat(3000) })),
    );
    await col.bulkWrite(
      Array.from({ length: 50 }, (_, i) => ({
        replaceOne: {
          filter: { _id: `d${base + i}`, revision: { $lt: 2 } },
          replacement: { revision: 2, body: 'z' },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    console.log(
      `wrote ${n}: count ${await col.countDocuments()}, revision 2: ${await col.countDocuments({ revision: 2 })}`,
    );
  } else if (mode === 'count') {
    console.log(
      `count ${await col.countDocuments()}, revision 2: ${await col.countDocuments({ revision: 2 })}`,
    );
  } else if (mode === 'drop') {
    await c.db('probe_persist').dropDatabase();
    console.log('dropped');
  } else {
    throw new Error('usage: probe-persist.mts write|count|drop [N]');
  }
} finally {
  await c.close();
}
