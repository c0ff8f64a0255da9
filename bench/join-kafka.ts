/**
 * join-kafka — the session join end to end on the real broker, against raw kafkajs consumption.
 *
 *   npx tsx bench/join-kafka.ts [--quick] [--sessions 100000] [--pairs 3]
 *
 * Needs Kafka (KAFKA_BROKERS, or .services.env from `npm run services:up`); skips otherwise.
 *
 * Workload: 100k synthetic sessions (~290k A/B/C events, the simulator's default session mix,
 * 10,000 users, one session per 50 ms of event time) produced once, keyed by
 * recommend_session_id, to fresh A/B/C topics of 6 partitions each. Then, alternately, in fresh
 * consumer groups and the same process:
 *  (a) raw: a bare kafkajs consumer (eachBatch, counting messages and resolving offsets; no
 *      decode, no commits) reading the three topics to the end;
 *  (b) join: the real join processor — `startJoinProcessor` on `createKafkaLog`: decode, the
 *      session join, H produced to the training-examples topic (acks=all, idempotent), dead
 *      letters, the join's checkpoints committed — until every record read is acknowledged, which
 *      it is only after its H and dead letters were written and its offsets committed.
 * Both use the same fetch settings as `createKafkaLog` (max 1 MiB per partition per fetch,
 * maxWait 500 ms, one partition's batch in flight at a time, the co-partitioned assigner). Each
 * is timed from its first batch to its last (group joins excluded). Figure: median join events/s
 * ÷ median raw events/s (target ≥ 0.5); the pair-wise ratios are recorded too. The topics are
 * deleted afterwards.
 */
import { parseArgs } from 'node:util';
import { type Consumer, logLevel } from 'kafkajs';
import { createHashingEmbedder } from '../streams/embeddings/hashing-embedder.ts';
import { CoPartitionedAssigner } from '../streams/log/co-partitioned-assigner.ts';
import { createKafkaLog } from '../streams/log/kafka-log.ts';
import { createMemoryClusterStore, createMemoryProfileStore } from '../streams/stores/profile-store.ts';
import { startJoinProcessor, topicSpecs } from '../streams/topology.ts';
import { fmt, machine, median, requireServices, round, writeResult } from './lib/common.ts';
import { steadyTraffic } from './lib/join-workload.ts';
import {
  benchKafka,
  benchNamespace,
  benchTopology,
  deleteTopics,
  produceEvents,
  tapLog,
  topicSizes,
} from './lib/kafka.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    pairs: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const quick = args.quick!;
const sessions = Number(args.sessions ?? (quick ? 10_000 : 100_000));
const pairs = Number(args.pairs ?? (quick ? 1 : 3));
const spacingMs = 50;
const users = 10_000;

const workload =
  `${fmt(sessions)} synthetic sessions (default mix, ${fmt(users)} users, one per ${spacingMs} ms of event time) ` +
  'produced keyed by session to fresh A/B/C topics of 6 partitions; (a) bare kafkajs eachBatch consumer vs ' +
  '(b) startJoinProcessor on createKafkaLog (decode → join → produce H and dead letters → commit), fresh groups, ' +
  'same fetch settings, timed first batch → last acknowledged batch.';
const reproduce = `npx tsx bench/join-kafka.ts${quick ? ' --quick' : ''} --sessions ${sessions} --pairs ${pairs}`;

const svc = await requireServices();
if ('missing' in svc) {
  console.log(`join-kafka: skipped — ${svc.missing}`);
  writeResult({
    benchmark: 'join-kafka',
    workload,
    reproduce,
    quick,
    params: { sessions, pairs },
    figures: { join_kafka_ratio: null },
    skipped: svc.missing,
    machine: machine(),
  });
  process.exit(0);
}

const brokers = svc.kafkaBrokers;
const { ns, topics } = benchNamespace('join');
const cfg = benchTopology(ns, topics, { idleLagMs: 600_000 });
const inputTopics = [topics.recommend, topics.paraphrase, topics.selection];
const kafka = benchKafka(brokers, `${ns}-bench`);
const setupLog = createKafkaLog({ brokers: brokers.split(','), clientId: `${ns}-setup` });
await setupLog.ensureTopics(topicSpecs(cfg));
await setupLog.close();

console.log(`join-kafka: producing ${fmt(sessions)} sessions to ${ns}.{a,b,c}…`);
const tp = performance.now();
const produced = await produceEvents(
  kafka,
  topics,
  (function* () {
    for (const chunk of steadyTraffic({ sessions, users, seed: 31, spacingMs, partitions: 6 })) yield* chunk;
  })(),
);
const produceS = (performance.now() - tp) / 1000;
const sizes = await topicSizes(kafka, inputTopics);
const total = Object.values(sizes).reduce((a, b) => a + b, 0);
console.log(`  ${fmt(produced)} events in ${fmt(produceS, 1)} s; on the topics: ${JSON.stringify(sizes)}`);
if (total !== produced) throw new Error(`expected ${produced} messages on the topics, found ${total}`);

interface Measured {
  readonly kind: 'raw' | 'join';
  readonly events: number;
  readonly ms: number;
  readonly events_per_s: number;
  readonly batches: number;
  readonly examples?: number;
  readonly dead_letters?: number;
  readonly timings?: Record<string, number>;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no end after ${ms} ms`)), ms),
    ),
  ]);

/** (a) kafkajs eachBatch, nothing else: the ceiling for this broker, topic layout and client. */
async function raw(run: number): Promise<Measured> {
  const consumer: Consumer = kafka.consumer({
    groupId: `${ns}-raw-${run}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 30_000,
    maxBytesPerPartition: 1024 * 1024,
    partitionAssigners: [CoPartitionedAssigner],
  });
  await consumer.connect();
  await consumer.subscribe({ topics: inputTopics, fromBeginning: true });
  let n = 0;
  let batches = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        if (n === 0) first = performance.now();
        n += batch.messages.length;
        batches++;
        resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
        if (n >= total) {
          last = performance.now();
          resolve();
        }
      },
    });
  });
  await withTimeout(done, 300_000, 'raw consumer');
  await consumer.disconnect();
  const ms = last - first;
  return { kind: 'raw', events: n, ms, events_per_s: (n / ms) * 1000, batches };
}

/** (b) the join processor as `npm run stream` runs it (ROLE=join), on a fresh group. */
async function join(run: number): Promise<Measured> {
  const log = createKafkaLog({
    brokers: brokers.split(','),
    clientId: `${ns}-join-${run}`,
    logLevel: logLevel.ERROR,
  });
  let first = 0;
  let last = 0;
  let acked = 0;
  let batches = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const tapped = tapLog(log, {
    firstBatch: (at) => {
      first = at;
    },
    acked: (records, at) => {
      acked += records;
      batches++;
      if (acked >= total) {
        last = at;
        resolveDone();
      }
    },
  });
  const errors: unknown[] = [];
  const proc = startJoinProcessor(
    {
      log: tapped,
      profiles: createMemoryProfileStore(),
      clusters: createMemoryClusterStore(),
      embedder: createHashingEmbedder(64),
      clock: Date.now,
      onError: (e) => errors.push(e),
      onRetry: (what, err) => console.log(`  retry ${what}: ${(err as Error).message}`),
    },
    { ...cfg, joinGroup: `${ns}-join-${run}` },
  );
  await withTimeout(
    Promise.race([
      done,
      new Promise<never>((_, reject) => {
        const t = setInterval(() => {
          if (errors.length > 0) {
            clearInterval(t);
            reject(errors[0]);
          }
        }, 100);
        void done.then(() => clearInterval(t));
      }),
    ]),
    600_000,
    'join processor',
  );
  await proc.stop();
  await log.close();
  const ms = last - first;
  return {
    kind: 'join',
    events: acked,
    ms,
    events_per_s: (acked / ms) * 1000,
    batches,
    examples: proc.stats.examples,
    dead_letters: proc.stats.deadLetters,
    timings: Object.fromEntries(Object.entries(tapped.timings).map(([k, v]) => [k, round(v)])),
  };
}

const runs: Measured[] = [];
try {
  for (let i = 0; i < pairs; i++) {
    for (const f of [raw, join]) {
      const m = await f(i);
      runs.push(m);
      console.log(
        `  ${m.kind.padEnd(4)} #${i + 1}: ${fmt(m.events)} events in ${fmt(m.ms)} ms = ${fmt(m.events_per_s)} events/s ` +
          `(${fmt(m.batches)} batches${m.examples !== undefined ? `, ${fmt(m.examples)} H, ${fmt(m.dead_letters)} dead letters` : ''})` +
          (m.timings
            ? `; of which in steps ${fmt(m.timings.stepMs)} ms (sends ${fmt(m.timings.sendMs)} ms × ${m.timings.sends}, ` +
              `commits ${fmt(m.timings.commitMs)} ms × ${m.timings.commits}), between steps ${fmt(m.timings.betweenMs)} ms`
            : ''),
      );
    }
  }
} finally {
  if (!args.keep) await deleteTopics(kafka, Object.values(topics));
}

const rawRates = runs.filter((r) => r.kind === 'raw').map((r) => r.events_per_s);
const joinRates = runs.filter((r) => r.kind === 'join').map((r) => r.events_per_s);
const ratio = median(joinRates) / median(rawRates);
const pairRatios = joinRates.map((j, i) => round(j / rawRates[i]!, 3));
console.log(
  `join-kafka: join ${fmt(median(joinRates))} events/s ÷ raw ${fmt(median(rawRates))} events/s = ${round(ratio, 3)} ` +
    `(pairs: ${pairRatios.join(', ')}; target ≥ 0.5)`,
);
const file = writeResult({
  benchmark: 'join-kafka',
  workload,
  reproduce,
  quick,
  params: { sessions, events: total, pairs, partitions: 6, spacingMs, users, namespace: ns },
  figures: { join_kafka_ratio: round(ratio, 3) },
  details: {
    produce_s: round(produceS, 1),
    topic_sizes: sizes,
    raw_events_per_s_median: round(median(rawRates)),
    join_events_per_s_median: round(median(joinRates)),
    pair_ratios: pairRatios,
    runs: runs.map((r) => ({ ...r, ms: round(r.ms), events_per_s: round(r.events_per_s) })),
  },
  machine: machine(),
});
console.log(`wrote ${file}`);
process.exit(0);
