// Times the write patterns the Mongo sinks use against a MongoDB-compatible server, to compare
// the local servers of scripts/services/mongo.sh (figures in docs/mongodb.md). Not part of any
// test: run it by hand against a server you started.
//
//   npx tsx scripts/services/mongo/probe-speed.mts [mongodb://127.0.0.1:27018/] [1000,10000] [--no-scenario]
import { type Collection, MongoBulkWriteError, MongoClient } from 'mongodb';

type Doc = { _id: string; revision: number; user_id: string; ts: Date; body: string };

const url = process.argv[2] ?? 'mongodb://127.0.0.1:27018/';
const sizes = (process.argv[3] ?? '1000,10000').split(',').map(Number);
// `--no-scenario` leaves out the 4,000-write run (minutes on a server that scans for each update).
const scenario = !process.argv.includes('--no-scenario');
const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, writeConcern: { w: 'majority' } });
const body = 'x'.repeat(3000); // ~3 KB, about one training example
const doc = (id: string, revision: number): Doc => ({
  _id: id,
  revision,
  user_id: `u${id.length}`,
  ts: new Date(),
  body,
});

async function time(label: string, n: number, f: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  console.log(
    `  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1000) / n).toFixed(0).padStart(6)} µs/op`,
  );
}

/** The sink's guarded upsert: newest revision wins; stale ones collide on _id (11000). */
async function guarded(c: Collection<Doc>, ids: string[], rev: number) {
  try {
    await c.bulkWrite(
      ids.map((id) => ({
        replaceOne: { filter: { _id: id, revision: { $lt: rev } }, replacement: doc(id, rev), upsert: true },
      })),
      { ordered: false },
    );
  } catch (e) {
    if (!(e instanceof MongoBulkWriteError)) throw e;
  }
}

try {
  for (const size of sizes) {
    const db = client.db(`probe_speed_${Date.now()}`);
    const c = db.collection<Doc>('t');
    for (let i = 0; i < size; i += 1000) {
      await c.insertMany(
        Array.from({ length: Math.min(1000, size - i) }, (_, j) => doc(`s${i + j}`, 1)),
        { ordered: false },
      );
    }
    const spread = (k: number) =>
      Array.from({ length: 100 }, (_, i) => `s${Math.floor((i * size) / 100) + k}`);
    console.log(`${url} — collection of ${size} docs of ~3 KB`);
    await time('insertMany 100', 100, () =>
      c.insertMany(
        Array.from({ length: 100 }, (_, i) => doc(`n${i}`, 1)),
        { ordered: false },
      ),
    );
    await time('find {_id: {$in: 100}}', 100, () =>
      c.find({ _id: { $in: spread(0) } }, { projection: { revision: 1 } }).toArray(),
    );
    await time('replaceOne by _id x100 (one bulkWrite)', 100, () =>
      c.bulkWrite(
        spread(1).map((id) => ({ replaceOne: { filter: { _id: id }, replacement: doc(id, 2) } })),
        { ordered: false },
      ),
    );
    await time('replaceOne by _id x100 (one call each)', 100, async () => {
      for (const id of spread(2)) await c.replaceOne({ _id: id }, doc(id, 2));
    });
    await time('updateOne by _id $set x100 (one call each)', 100, async () => {
      for (const id of spread(3)) await c.updateOne({ _id: id }, { $set: { revision: 2 } });
    });
    await time('guarded upsert x100, existing, newer rev', 100, () => guarded(c, spread(4), 5));
    await time('guarded upsert x100, new _ids', 100, () =>
      guarded(
        c,
        spread(0).map((id) => `new-${id}`),
        5,
      ),
    );
    await time('guarded upsert x100, stale (11000 each)', 100, () => guarded(c, spread(4), 3));
    // What 1,000 sessions cost the sinks: 3,000 archive inserts + 1,000 guarded upserts, batches of 100.
    if (scenario)
      await time('1,000 sessions: 3,000 inserts + 1,000 upserts', 4000, async () => {
        for (let b = 0; b < 30; b++) {
          await c.insertMany(
            Array.from({ length: 100 }, (_, i) => doc(`ev${b * 100 + i}`, 1)),
            { ordered: false },
          );
        }
        for (let b = 0; b < 10; b++)
          await guarded(
            c,
            Array.from({ length: 100 }, (_, i) => `s${(b * 100 + i) % size}`),
            7,
          );
      });
    const n = await c.countDocuments();
    console.log(`  documents now: ${n}`);
    await db.dropDatabase();
  }
} finally {
  await client.close();
}
