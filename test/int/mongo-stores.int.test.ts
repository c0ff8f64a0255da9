import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import exampleA from '../../schemas/examples/a-recommend.json' with { type: 'json' };
import exampleH from '../../schemas/examples/h-training-example.json' with { type: 'json' };
import { DEFAULT_TOPICS } from '../../schemas/index.ts';
import { runCli } from '../../simulator/personas/cli.ts';
import type { LogRecord } from '../../streams/log/event-log.ts';
import { createArchiveSink } from '../../streams/sinks/archive-sink.ts';
import { createExamplesSink } from '../../streams/sinks/examples-sink.ts';
import { SinkError } from '../../streams/sinks/sink.ts';
import { createMongoStores } from '../../streams/stores/mongo-stores.ts';
import { mongoContract } from '../helpers/mongo-contract.ts';
import { storeUrl } from './stores.ts';

const url = storeUrl(inject('services'), 'MONGODB_URL');

describe.skipIf(!url)('MongoDB (MONGODB_URL)', () => {
  let client: MongoClient;
  const dbs: string[] = [];
  const freshDb = () => {
    const name = `test-${randomUUID().slice(0, 8)}`;
    dbs.push(name);
    return name;
  };

  beforeAll(async () => {
    client = new MongoClient(url!, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
  });
  afterAll(async () => {
    for (const d of dbs)
      await client
        .db(d)
        .dropDatabase()
        .catch(() => {});
    await client?.close();
  });

  mongoContract('MongoDB', async () => {
    const db = freshDb();
    const stores = createMongoStores(client, { db });
    await stores.ensureIndexes();
    return {
      ...stores,
      cleanup: async () => {
        await client.db(db).dropDatabase();
      },
    };
  });

  let offset = 0;
  const record = (topic: string, value: unknown, key: string | null = null): LogRecord => ({
    topic,
    partition: 0,
    offset: offset++,
    timestamp: Date.UTC(2026, 0, 1),
    key,
    value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
  });
  const eventA = (i: number, extra: Record<string, unknown> = {}) => ({
    ...exampleA,
    event_id: `evt-a-${i}`,
    recommend_session_id: `rs-${i}`,
    ...extra,
  });

  it('archive sink: a replayed batch is counted as duplicates and the collection stays the same', async () => {
    const db = freshDb();
    const stores = createMongoStores(client, { db });
    await stores.ensureIndexes();
    const sink = createArchiveSink({ store: stores.archive, topics: DEFAULT_TOPICS });
    const batch = Array.from({ length: 150 }, (_, i) =>
      record(DEFAULT_TOPICS.recommend, eventA(i), `rs-${i}`),
    );
    const first = await sink.apply(batch.slice(0, 100));
    expect(first?.counts).toMatchObject({ archived: 100, duplicates: 0 });
    // A crash after the write, before the commit: the runtime delivers the same records again,
    // this time together with the next ones.
    const replay = await sink.apply(batch);
    expect(replay?.counts).toMatchObject({ archived: 50, duplicates: 100 });
    expect(replay?.rejected).toEqual([]);
    expect(await stores.archive.countEvents()).toBe(150);
    const doc = await client
      .db(db)
      .collection('events')
      .findOne({ _id: 'evt-a-7' as never });
    expect(doc).toMatchObject({ type: 'recommend', user_id: exampleA.user_id, recommend_session_id: 'rs-7' });
    expect(doc!.ts).toBeInstanceOf(Date);
    expect(doc!.event).toEqual(eventA(7));
  });

  it('archive sink: prepared batches applied in order, a replay counts duplicates; a clash on another unique index is rejected', async () => {
    const db = freshDb();
    const stores = createMongoStores(client, { db });
    await stores.ensureIndexes();
    // A unique index someone else gave the collection: a clash there is no replay.
    await client
      .db(db)
      .collection('events')
      .createIndex({ 'event.client_ref': 1 }, { unique: true, sparse: true, name: 'client_ref_unique' });
    const sink = createArchiveSink({ store: stores.archive, topics: DEFAULT_TOPICS });
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        record(DEFAULT_TOPICS.recommend, eventA(from + i), `rs-${from + i}`),
      );
    const [b1, b2] = [batch(500, 100), batch(600, 100)];
    // Both prepared before either is applied (as the runtime does one ahead), applied in order.
    const [p1, p2] = [await sink.prepare!(b1), await sink.prepare!(b2)];
    expect((await sink.apply(b1, p1))?.counts).toMatchObject({ archived: 100, duplicates: 0 });
    expect((await sink.apply(b2, p2))?.counts).toMatchObject({ archived: 100, duplicates: 0 });
    const replay = await sink.apply([...b2.slice(50), ...batch(700, 10)]);
    expect(replay?.counts).toMatchObject({ archived: 10, duplicates: 50 });
    const clash = record(DEFAULT_TOPICS.recommend, eventA(800, { client_ref: 'r-1' }), 'rs-800');
    const clash2 = record(DEFAULT_TOPICS.recommend, eventA(801, { client_ref: 'r-1' }), 'rs-801');
    const out = await sink.apply([clash, clash2, record(DEFAULT_TOPICS.recommend, eventA(802), 'rs-802')]);
    expect(out?.counts).toMatchObject({ archived: 2, duplicates: 0 });
    expect(out?.rejected?.map((r) => r.record.offset)).toEqual([clash2.offset]);
    expect(out?.rejected?.[0]?.reason).toMatch(/code 11000/);
    expect(await stores.archive.countEvents()).toBe(212);
  });

  it('archive sink: an event over 16 MB is rejected with the reason, its neighbours are archived', async () => {
    const db = freshDb();
    const stores = createMongoStores(client, { db });
    const sink = createArchiveSink({ store: stores.archive, topics: DEFAULT_TOPICS });
    const big = record(
      DEFAULT_TOPICS.recommend,
      eventA(2, { attachment: 'x'.repeat(17 * 1024 * 1024) }),
      'rs-2',
    );
    const out = await sink.apply([
      record(DEFAULT_TOPICS.recommend, eventA(1), 'rs-1'),
      big,
      record(DEFAULT_TOPICS.recommend, eventA(3), 'rs-3'),
    ]);
    expect(out?.rejected?.map((r) => r.record.offset)).toEqual([big.offset]);
    expect(out?.rejected?.[0]?.reason).toMatch(/over MongoDB's 16777216-byte \(16 MB\) limit/);
    expect(out?.counts).toMatchObject({ archived: 2 });
    expect(await stores.archive.countEvents()).toBe(2);
  });

  it('a server that is not there: the archive sink throws a retriable SinkError, so the runtime waits', async () => {
    const away = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 300 });
    try {
      const stores = createMongoStores(away, { db: freshDb() });
      const sink = createArchiveSink({ store: stores.archive, topics: DEFAULT_TOPICS });
      const err = await sink.apply([record(DEFAULT_TOPICS.recommend, eventA(1), 'rs-1')]).catch((e) => e);
      expect(err).toBeInstanceOf(SinkError);
      expect(err).toMatchObject({ retriable: true, code: 'mongo_unavailable' });
    } finally {
      await away.close();
    }
  });

  it('training_examples sink: replays and older revisions never overwrite the newest', async () => {
    const db = freshDb();
    const stores = createMongoStores(client, { db });
    const sink = createExamplesSink({ store: stores.examples, topic: DEFAULT_TOPICS.trainingExamples });
    const h = (session: string, revision: number) =>
      record(
        DEFAULT_TOPICS.trainingExamples,
        { ...exampleH, recommend_session_id: session, revision },
        exampleH.user_id,
      );
    expect((await sink.apply([h('s1', 1), h('s2', 2)]))?.counts).toEqual({ upserts: 2, stale: 0 });
    // The stale s1 comes first in the batch: s2's and s3's writes must still land.
    expect((await sink.apply([h('s1', 1), h('s2', 3), h('s3', 1)]))?.counts).toEqual({
      upserts: 2,
      stale: 1,
    });
    expect((await sink.apply([h('s2', 2), h('s1', 2)]))?.counts).toEqual({ upserts: 1, stale: 1 });
    const revs = await client.db(db).collection('training_examples').find().sort({ _id: 1 }).toArray();
    expect(revs.map((d) => [d._id, d.revision])).toEqual([
      ['s1', 2],
      ['s2', 3],
      ['s3', 1],
    ]);
  });

  it('personas load: the same export loaded twice gives the same collection; mine reads it back', async () => {
    const db = freshDb();
    const dir = await mkdtemp(join(tmpdir(), 'd-load-'));
    try {
      const file = join(dir, 'd.jsonl');
      expect(await runCli(['generate', '--out', file, '--users', '30', '--seed', '7'], quiet())).toBe(0);
      await writeFile(
        file,
        `${(await import('node:fs')).readFileSync(file, 'utf8')}{"user_id":"x","ts":"yesterday"}\n`,
      );
      const io1 = quiet();
      expect(await runCli(['load', '--input', file, '--url', url!, '--db', db], io1)).toBe(0);
      const coll = client.db(db).collection('raw_corporate_data');
      const n = await coll.countDocuments();
      expect(n).toBeGreaterThan(100);
      expect(io1.lines.join('\n')).toMatch(new RegExp(`inserted ${n}, already there 0, invalid 1`));
      expect(io1.lines.join('\n')).toMatch(/invalid line \d+ \(row \d+\): ts: /);
      const ids1 = (
        await coll
          .find({}, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .toArray()
      ).map((d) => d._id);
      const io2 = quiet();
      expect(await runCli(['load', '--input', file, '--url', url!, '--db', db], io2)).toBe(0);
      expect(io2.lines.join('\n')).toMatch(new RegExp(`inserted 0, already there ${n}, invalid 1`));
      const ids2 = (
        await coll
          .find({}, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .toArray()
      ).map((d) => d._id);
      expect(ids2).toEqual(ids1);
      const io3 = quiet();
      expect(await runCli(['mine', '--from-mongo', '--url', url!, '--db', db, '--k', '4'], io3)).toBe(0);
      expect(io3.lines.join('\n')).toMatch(new RegExp(`loaded mongodb .*raw_corporate_data.*: ${n} rows`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function quiet() {
  const lines: string[] = [];
  return { lines, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
}
