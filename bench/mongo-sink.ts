/**
 * Benchmark of the MongoDB archive sink (issue 10), against the server at MONGODB_URL (the local
 * FerretDB from `npm run services:up`, or a MongoDB):
 *
 *   npx tsx bench/mongo-sink.ts [--quick] [--sessions 10000] [--pairs 5]
 *
 * The same A, B and C events (3 per session, real-sized from schemas/examples) are archived twice
 * on the same server, each time into a fresh database with the same indexes:
 * - raw: the documents the sink would write, prepared beforehand, with the bare driver's
 *   `insertMany(…, { ordered: false })` in batches of 100 (the sink's micro-batch), one after the
 *   other, write concern majority;
 * - sink: the records on an EmbeddedLog (6 partitions, keyed by session) read by `runSink` with
 *   `createArchiveSink` over the MongoDB adapter — consumer group, micro-batching, JSON and
 *   envelope check, document checks, insertMany, commits — until every record is applied.
 * `mongo_sink_ratio` = sink documents/s ÷ raw documents/s. The event count is a multiple of 100 so
 * no partial batch waits for the 500 ms flush. After a warm-up of each side, `--pairs` (5; quick 3)
 * pairs in alternating order (raw then sink, sink then raw, …); the figure is the median of the
 * pair ratios (the best-of-each ratio is in details). Writes
 * bench/results/mongo-sink.json. The machine is shared: load average is recorded.
 *
 * Same-run comparison (extra runs in every pair, outside the figure): `--compare-serial` (no
 * prepare at all). `--sink-order` also times the bare insertMany over
 * exactly the batches the sink wrote, in its order: the server's cost for the sink's key order
 * (records of one partition) rather than the baseline's session order.
 */
import { parseArgs } from 'node:util';
import { type Document, MongoClient } from 'mongodb';
import { environment } from '../common/environment.ts';
import exampleA from '../schemas/examples/a-recommend.json' with { type: 'json' };
import exampleB from '../schemas/examples/b-paraphrase.json' with { type: 'json' };
import exampleC from '../schemas/examples/c-selection.json' with { type: 'json' };
import { DEFAULT_TOPICS } from '../schemas/index.ts';
import { EmbeddedLog } from '../streams/log/embedded-log.ts';
import type { LogMessage, LogRecord } from '../streams/log/event-log.ts';
import { runSink } from '../streams/runtime/sink-runtime.ts';
import { archivedEventOf, createArchiveSink } from '../streams/sinks/archive-sink.ts';
import { createMongoStores, MONGO_COLLECTIONS } from '../streams/stores/mongo-stores.ts';
import { fmt, machine, ROOT, round, writeResult } from './lib/common.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    pairs: { type: 'string' },
    // Also run the sink without its prepare (the runtime then parses each batch in series with
    // its insert, as before the pipelining), in every pair: the same-run before/after.
    'compare-serial': { type: 'boolean', default: false },
    // Diagnostic, not the figure: also time the bare insertMany over exactly the batches the sink
    // wrote, in the order it wrote them (what the server costs for the sink's key order).
    'sink-order': { type: 'boolean', default: false },
  },
});
const quick = args.quick!;
const sessions = Number(args.sessions ?? (quick ? 1000 : 10_000));
const total = sessions * 3;
const pairs = Number(args.pairs ?? (quick ? 3 : 5));
const BATCH = 100;
const PARTITIONS = 6;
const T = DEFAULT_TOPICS;

const env = environment(process.env.SERVICES_ENV_FILE ?? `${ROOT}/.services.env`);
const url = env.MONGODB_URL;
const base = {
  benchmark: 'mongo-sink',
  workload:
    `${total} A/B/C events (${sessions} sessions) archived by runSink + createArchiveSink over an EmbeddedLog vs the ` +
    `bare driver's insertMany (ordered: false, batches of ${BATCH}, w: majority) of the same documents, same server, same run`,
  reproduce: 'npx tsx bench/mongo-sink.ts',
  quick,
  params: { sessions, events: total, batch: BATCH, partitions: PARTITIONS, pairs, url: url ?? null },
};
if (!url) {
  writeResult({
    ...base,
    figures: { mongo_sink_ratio: null },
    skipped: 'MONGODB_URL unset and not in .services.env (npm run services:up starts the local server)',
    machine: machine(),
  });
  console.log('mongo-sink: skipped, no MONGODB_URL');
  process.exit(0);
}

/** The three events of session i, as the topics carry them. */
function sessionMessages(i: number): { topic: string; msg: LogMessage }[] {
  const rs = `rs-bench-${i}`;
  const user = `user-${i % 500}`;
  const t = Date.UTC(2026, 10, 23, 9) + i * 1000;
  const ev = (tpl: Record<string, unknown>, kind: string, dt: number) => ({
    ...tpl,
    event_id: `evt-${kind}-${i}`,
    recommend_session_id: rs,
    user_id: user,
    ts: new Date(t + dt).toISOString(),
  });
  const m = (topic: string, v: unknown) => ({
    topic,
    msg: { key: rs, value: Buffer.from(JSON.stringify(v)) },
  });
  return [
    m(T.recommend, ev(exampleA, 'a', 0)),
    m(T.paraphrase, ev(exampleB, 'b', 4000)),
    m(T.selection, ev(exampleC, 'c', 19_000)),
  ];
}

const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
await client.connect();
const dbs: string[] = [];
const freshStores = async (label: string) => {
  const db = `bench-mongo-${process.pid}-${label}`;
  dbs.push(db);
  await client.db(db).dropDatabase();
  const stores = createMongoStores(client, { db });
  await stores.ensureIndexes();
  return { stores, db };
};

const loadBefore = machine().loadavg;
const all = Array.from({ length: sessions }, (_, i) => sessionMessages(i)).flat();
// The documents the raw run writes: exactly what the sink builds from the records.
const asRecords: LogRecord[] = all.map((x, i) => ({
  ...x.msg,
  topic: x.topic,
  partition: 0,
  offset: i,
  timestamp: 0,
}));
const docs: Document[] = asRecords.map((r) => {
  const d = archivedEventOf(r);
  if ('reason' in d) throw new Error(`bench event does not decode: ${d.reason}`);
  return d.doc;
});

async function rawRun(label: string): Promise<number> {
  const { stores, db } = await freshStores(label);
  const coll = stores.db.collection(MONGO_COLLECTIONS.events);
  const t0 = performance.now();
  for (let i = 0; i < docs.length; i += BATCH)
    await coll.insertMany(docs.slice(i, i + BATCH), { ordered: false });
  const s = (performance.now() - t0) / 1000;
  const n = await coll.countDocuments();
  if (n !== total) throw new Error(`raw run ${db}: ${n} documents, expected ${total}`);
  // Dropped at once, not at the end: a run cut short leaves no databases for the server to load.
  await client.db(db).dropDatabase();
  return total / s;
}

type SinkMode = 'default' | 'serial';

/** The batches the last sink run inserted, in its order (for `--sink-order`). */
let lastSinkBatches: Document[][] = [];

async function rawBatchesRun(label: string, batches: readonly Document[][]): Promise<number> {
  const { stores, db } = await freshStores(label);
  const coll = stores.db.collection(MONGO_COLLECTIONS.events);
  const t0 = performance.now();
  for (const b of batches) await coll.insertMany(b, { ordered: false });
  const s = (performance.now() - t0) / 1000;
  const n = await coll.countDocuments();
  if (n !== total) throw new Error(`raw (sink order) run ${db}: ${n} documents, expected ${total}`);
  await client.db(db).dropDatabase();
  return total / s;
}

async function sinkRun(
  label: string,
  mode: SinkMode = 'default',
): Promise<{ perS: number; applies: number; duplicates: number }> {
  const { stores, db } = await freshStores(label);
  const log = new EmbeddedLog({ idleIntervalMs: 50 });
  await log.ensureTopics(
    [T.recommend, T.paraphrase, T.selection, T.deadLetter].map((topic) => ({
      topic,
      partitions: PARTITIONS,
    })),
  );
  for (const topic of [T.recommend, T.paraphrase, T.selection])
    await log.send(
      topic,
      all.filter((x) => x.topic === topic).map((x) => x.msg),
    );
  const t0 = performance.now();
  const batches: Document[][] = [];
  const store = args['sink-order']
    ? {
        ...stores.archive,
        insertEvents: (d: Parameters<typeof stores.archive.insertEvents>[0]) => {
          batches.push([...d]);
          return stores.archive.insertEvents(d);
        },
      }
    : stores.archive;
  const archive = createArchiveSink({ store, topics: T });
  const running = runSink(mode === 'serial' ? { ...archive, prepare: undefined } : archive, {
    log,
    deadLetterTopic: T.deadLetter,
    onError: (err) => console.error('mongo-sink: sink failed', err),
  });
  while (running.stats.records < total) {
    if (running.stats.status === 'failed') throw new Error(`sink failed: ${running.stats.lastError}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const s = (performance.now() - t0) / 1000;
  await running.stop();
  await log.close();
  const n = await stores.archive.countEvents();
  if (n !== total) throw new Error(`sink run ${db}: ${n} documents, expected ${total}`);
  await client.db(db).dropDatabase();
  lastSinkBatches = batches;
  return {
    perS: total / s,
    applies: running.stats.applies,
    duplicates: running.stats.outcomes.duplicates ?? 0,
  };
}

try {
  const raw: number[] = [];
  const sink: Awaited<ReturnType<typeof sinkRun>>[] = [];
  const pairRatios: number[] = [];
  const serialRatios: number[] = [];
  const sinkOrderRaw: number[] = [];
  // A warm-up pair first (the server's JIT and caches: the first raw run here was often 1/3 of
  // the later ones), then pairs in alternating order (raw, sink), (sink, raw), …: each pair's
  // ratio sees about the same machine, and the median of the pair ratios is the figure (the load
  // on this shared machine moves by ×3 within a minute, so a best-of over separate moments is not).
  await rawRun('warm-raw');
  await sinkRun('warm-sink');
  for (let p = 0; p < pairs; p++) {
    const first = p % 2 === 0 ? 'raw' : 'sink';
    let r = 0;
    let k: Awaited<ReturnType<typeof sinkRun>> | null = null;
    for (const side of first === 'raw' ? ['raw', 'sink'] : ['sink', 'raw']) {
      if (side === 'raw') r = await rawRun(`raw${p}`);
      else k = await sinkRun(`sink${p}`);
    }
    raw.push(r);
    sink.push(k!);
    pairRatios.push(k!.perS / r);
    if (args['sink-order']) {
      const so = await rawBatchesRun(`raw-sink-order${p}`, lastSinkBatches);
      sinkOrderRaw.push(so);
      console.log(
        `mongo-sink: pair ${p + 1}: raw insertMany over the sink's batches ${fmt(so, 0)} docs/s ` +
          `(sink ÷ that ${fmt(k!.perS / so, 3)})`,
      );
    }
    if (args['compare-serial']) {
      const sr = await sinkRun(`serial${p}`, 'serial');
      serialRatios.push(sr.perS / r);
      console.log(
        `mongo-sink: pair ${p + 1}: sink without prepare ${fmt(sr.perS, 0)} docs/s: ${fmt(sr.perS / r, 3)}`,
      );
    }
    console.log(
      `mongo-sink: pair ${p + 1}/${pairs} (${first} first): raw ${fmt(r, 0)} docs/s, sink ${fmt(k!.perS, 0)} docs/s ` +
        `(${k!.applies} applies): ${fmt(k!.perS / r, 3)}`,
    );
  }
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const bestRaw = Math.max(...raw);
  const bestSink = Math.max(...sink.map((x) => x.perS));
  const ratio = median(pairRatios);
  const hello = await client.db('admin').command({ buildInfo: 1 });
  const file = writeResult({
    ...base,
    figures: { mongo_sink_ratio: round(ratio, 3) },
    details: {
      raw_docs_per_s: raw.map((x) => round(x, 0)),
      sink_docs_per_s: sink.map((x) => round(x.perS, 0)),
      sink_applies: sink.map((x) => x.applies),
      sink_duplicates: sink.map((x) => x.duplicates),
      pair_ratios: pairRatios.map((x) => round(x, 3)),
      serial_pair_ratios: serialRatios.map((x) => round(x, 3)),
      raw_sink_order_docs_per_s: sinkOrderRaw.map((x) => round(x, 0)),
      best_of_ratio: round(bestSink / bestRaw, 3),
      median_raw_docs_per_s: round(median(raw), 0),
      median_sink_docs_per_s: round(median(sink.map((x) => x.perS)), 0),
      best_raw_docs_per_s: round(bestRaw, 0),
      best_sink_docs_per_s: round(bestSink, 0),
      server_version: hello.version ?? null,
      load_before: loadBefore,
    },
    machine: machine(),
  });
  console.log(
    `mongo-sink: median of ${pairs} pair ratios (sink ÷ raw insertMany) = ${fmt(ratio, 3)} ` +
      `(${pairRatios.map((x) => fmt(x, 3)).join(', ')}) → ${file}`,
  );
} finally {
  for (const d of dbs)
    await client
      .db(d)
      .dropDatabase()
      .catch(() => {});
  await client.close();
}
