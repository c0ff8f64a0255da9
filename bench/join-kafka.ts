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
 *  (a') parse: the same consumer plus JSON.parse of every value — not a baseline but a bound,
 *      reported as details.parse_only_ratio: no consumer that reads a JSON event's content does
 *      better than that ratio in this runtime;
 *  (b) join: the real join processor — `startJoinProcessor` on `createKafkaLog`: decode, the
 *      session join, H produced to the training-examples topic (acks=all, idempotent), dead
 *      letters, the join's checkpoints committed — until every record read is acknowledged, which
 *      it is only after its H and dead letters were written and its offsets committed.
 *  (b') produce: the sends of the first join run alone — the same H and dead-letter messages, in
 *      the same send calls and order, one after another (as the join's send chain), through a
 *      fresh `createKafkaLog` with the same settings to fresh topics, nothing consumed, decoded or
 *      joined. Not a baseline, a bound: the join cannot read its input faster than it can write
 *      what that input produces, so (input events ÷ this time) ÷ raw, details.produce_only_ratio,
 *      is a ceiling on `join_kafka_ratio` for this output on this client and broker.
 *  (b'') `--rdkafka` only: the same sends through librdkafka (node-rdkafka, built under .cache/ by
 *      bench/peers/build-rdkafka.sh; acks=all, idempotent, gzip 1), every message in flight at
 *      once, timed first produce → last acknowledgement: details.produce_only_rdkafka_ratio, the
 *      ceiling with a faster producer than kafkajs on the same broker and cores.
 * Both use the same fetch settings as `createKafkaLog` (max 1 MiB per partition per fetch,
 * maxWait 500 ms, one partition's batch in flight at a time, the co-partitioned assigner). Each
 * is timed from its first batch to its last (group joins excluded). Figure: median join events/s
 * ÷ median raw events/s (target ≥ 0.5); the pair-wise ratios are recorded too.
 *  (c) kstreams: the same A/B/C windowed session join written as a Kafka Streams application
 *      (bench/peers/kafka-streams-join, built by bench/peers/build.sh with Maven, cached; one
 *      stream thread, an in-memory change-logged store with the record cache on, at-least-once)
 *      in a JVM of its own process group, on the same topics and broker, same window and grace,
 *      on a fresh application id; timed from the first record its processor saw to the poll
 *      (20 ms) that saw every input record committed (Streams commits after flushing its
 *      outputs). JVM start and group join are excluded, as ours.
 * `join_vs_kafka_streams` = median join events/s ÷ median kstreams events/s (target ≥ 1.0). The
 * comparison is checked to be fair: the set of complete (A+B+C) session ids the peer emitted must
 * equal the set of ids of our H with funnel ABC. `--no-peer` leaves (c) out. All topics of the
 * run (the peer's outputs and change logs too) are deleted afterwards.
 */
import { parseArgs } from 'node:util';
import { CompressionTypes, type Consumer, logLevel } from 'kafkajs';
import { CoPartitionedAssigner } from '../streams/log/co-partitioned-assigner.ts';
import type { LogMessage } from '../streams/log/event-log.ts';
import { createKafkaLog } from '../streams/log/kafka-log.ts';
import { startJoinProcessor } from '../streams/processors/join-processor.ts';
import { topicSpecs } from '../streams/topology-config.ts';
import { fmt, machine, median, requireServices, round, writeResult } from './lib/common.ts';
import { GRACE_MS, steadyTraffic, WINDOW_MS } from './lib/join-workload.ts';
import {
  benchKafka,
  benchNamespace,
  benchTopology,
  deleteTopics,
  produceEvents,
  readTopic,
  tapLog,
  topicSizes,
} from './lib/kafka.ts';
import { buildPeer, runPeer } from './lib/kafka-streams-peer.ts';
import { loadRdkafka, produceAllRdkafka } from './lib/rdkafka-produce.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    pairs: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
    /** Codec of the join's produced H and dead letters: gzip (createKafkaLog's default) or none. */
    compression: { type: 'string', default: 'gzip' },
    /** Also the librdkafka produce-only bound (bench/lib/rdkafka-produce.ts; built under .cache/). */
    rdkafka: { type: 'boolean', default: false },
    /** Kafka Streams settings for the peer, k=v,k=v (default: PEER_CONFIG below). */
    'peer-config': { type: 'string' },
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
  'same fetch settings, timed first batch → last acknowledged batch; (c) the same join as a Kafka Streams 3.9.1 ' +
  'application (one stream thread, in-memory change-logged store), timed first record → every input committed.';
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
    figures: {
      join_kafka_ratio: null,
      join_kafka_events_per_s: null,
      kafka_streams_events_per_s: null,
      join_vs_kafka_streams: null,
    },
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

/**
 * The peer's settings beyond Kafka Streams' defaults (measured here: each about doubles it).
 * max.task.idle.ms=-1: a task processes what it has buffered instead of waiting to fetch every one
 * of its partitions to pick records in timestamp order across A, B and C (ours does not order
 * across topics either; record timestamps are produce times, the join reads event time from the
 * values). statestore.cache.max.bytes=256 MiB: the record cache holds every live session, so the
 * change log gets about one write per session per commit instead of one per eviction.
 */
const PEER_CONFIG: Record<string, string> = Object.fromEntries(
  (args['peer-config'] ?? 'max.task.idle.ms=-1,statestore.cache.max.bytes=268435456')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

// Built before anything is measured (the first build downloads its jars from Maven's repository).
const peer = args['no-peer'] ? { error: 'left out (--no-peer)' } : buildPeer();
if ('error' in peer) console.log(`  kafka streams peer: ${peer.error}`);

interface Measured {
  readonly kind: 'raw' | 'parse' | 'join' | 'produce' | 'produce-rdkafka' | 'kstreams';
  readonly events: number;
  readonly ms: number;
  readonly events_per_s: number;
  readonly batches: number;
  readonly examples?: number;
  readonly dead_letters?: number;
  readonly timings?: Record<string, number>;
  readonly startup_ms?: number;
  readonly processed_ms?: number | null;
  readonly in_processor_ms?: number | null;
  /** CPU seconds the consumer's process used while timed (ours: this process; peer: the JVM). */
  readonly cpu_s?: number | null;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no end after ${ms} ms`)), ms),
    ),
  ]);

/** (a) kafkajs eachBatch, nothing else: the ceiling for this broker, topic layout and client. */
function raw(run: number): Promise<Measured> {
  return bare(run, false);
}

/**
 * (a') the same consumer, plus `JSON.parse` of every value (UTF-8 decode included), nothing else:
 * not a baseline, a bound — whatever consumer reads the events' content pays at least this, so
 * parse ÷ raw is a ceiling on `join_kafka_ratio` for a JSON payload in this runtime.
 */
function parseOnly(run: number): Promise<Measured> {
  return bare(run, true);
}

async function bare(run: number, parse: boolean): Promise<Measured> {
  const consumer: Consumer = kafka.consumer({
    groupId: `${ns}-${parse ? 'parse' : 'raw'}-${run}`,
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
  let keys = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        if (n === 0) first = performance.now();
        // Something is read from every parsed value, so the parse cannot be optimised away.
        if (parse)
          for (const m of batch.messages) keys += Object.keys(JSON.parse(m.value!.toString('utf8'))).length;
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
  if (parse && keys === 0) throw new Error('parse-only consumer read no fields');
  return { kind: parse ? 'parse' : 'raw', events: n, ms, events_per_s: (n / ms) * 1000, batches };
}

/** The event log the join and the produce-only bound send through: same client settings and codec. */
const measuredLog = (clientId: string) =>
  createKafkaLog({
    brokers: brokers.split(','),
    clientId,
    logLevel: logLevel.ERROR,
    compression: args.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
  });

/** (b) the join processor as `npm run stream` runs it (ROLE=join), on a fresh group. */
async function join(run: number): Promise<Measured> {
  const log = measuredLog(`${ns}-join-${run}`);
  let first = 0;
  let last = 0;
  let acked = 0;
  let batches = 0;
  let cpuFirst: NodeJS.CpuUsage | null = null;
  let cpuLast: NodeJS.CpuUsage | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const capture = captured.length === 0;
  const tapped = tapLog(log, {
    sent: (topic, messages) => {
      if (capture) captured.push({ topic, messages });
    },
    firstBatch: (at) => {
      first = at;
      cpuFirst = process.cpuUsage();
    },
    acked: (records, at) => {
      acked += records;
      batches++;
      if (acked >= total) {
        last = at;
        cpuLast = process.cpuUsage(cpuFirst ?? undefined);
        resolveDone();
      }
    },
  });
  const errors: unknown[] = [];
  const proc = startJoinProcessor(
    {
      log: tapped,
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
    cpu_s:
      cpuLast === null
        ? null
        : ((cpuLast as NodeJS.CpuUsage).user + (cpuLast as NodeJS.CpuUsage).system) / 1e6,
  };
}

/** The first join run's sends, in order: what (b') produces again, alone. */
const captured: { topic: string; messages: readonly LogMessage[] }[] = [];

/**
 * Fresh topics, one per captured topic with its partitions, for a produce-only bound (created
 * through `log`); captured topic → its destination.
 */
async function freshDestinations(
  log: ReturnType<typeof measuredLog>,
  label: string,
): Promise<Map<string, string>> {
  const specs = topicSpecs(cfg);
  const dest = new Map<string, string>();
  for (const { topic } of captured) {
    if (!dest.has(topic)) dest.set(topic, `${ns}.${label}-${dest.size}`);
  }
  await log.ensureTopics(
    [...dest].map(([from, to]) => ({
      topic: to,
      partitions: specs.find((x) => x.topic === from)?.partitions ?? 6,
    })),
  );
  return dest;
}

/** (b') the first join run's sends alone, in the same calls and order, to fresh topics. */
async function produceOnly(run: number): Promise<Measured> {
  if (captured.length === 0) throw new Error('produce-only: no join run was captured');
  const log = measuredLog(`${ns}-produce-${run}`);
  const dest = await freshDestinations(log, `produce-only-${run}`);
  // Timed as the join's sends are: the producer connects on the first send, inside the window.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let messages = 0;
  for (const { topic, messages: ms } of captured) {
    await log.send(dest.get(topic)!, ms);
    messages += ms.length;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await log.close();
  return {
    kind: 'produce',
    events: total,
    ms,
    // The input events whose outputs these are, per second: comparable with the consumers' rates.
    events_per_s: (total / ms) * 1000,
    batches: captured.length,
    examples: messages,
    cpu_s: (cpu.user + cpu.system) / 1e6,
  };
}

const rdkafka = args.rdkafka ? loadRdkafka() : null;
if (rdkafka && 'error' in rdkafka) console.log(`join-kafka: librdkafka bound skipped — ${rdkafka.error}`);

/** (b'') the same sends as (b') through librdkafka, all in flight at once: a looser ceiling. */
async function produceOnlyRdkafka(run: number): Promise<Measured> {
  if (!rdkafka || 'error' in rdkafka) throw new Error('produce-only (librdkafka): not loaded');
  if (captured.length === 0) throw new Error('produce-only (librdkafka): no join run was captured');
  const setup = measuredLog(`${ns}-produce-rdk-${run}`);
  const dest = await freshDestinations(setup, `produce-rdk-${run}`);
  await setup.close();
  const r = await produceAllRdkafka(
    rdkafka.binding,
    brokers,
    captured.map((c) => ({ topic: dest.get(c.topic)!, messages: c.messages })),
  );
  return {
    kind: 'produce-rdkafka',
    events: total,
    ms: r.ms,
    events_per_s: (total / r.ms) * 1000,
    batches: captured.length,
    examples: r.messages,
    cpu_s: r.cpu_s,
  };
}

/** (c) the Kafka Streams peer, on a fresh application id and output topic. */
async function kstreams(run: number): Promise<Measured> {
  if ('error' in peer) throw new Error(peer.error);
  const outputTopic = `${ns}.kstreams-out-${run}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: outputTopic, numPartitions: 6, replicationFactor: 1 }] });
  await admin.disconnect();
  const r = await runPeer(kafka, {
    jar: peer.jar,
    brokers,
    appId: `${ns}-kstreams-${run}`,
    inputTopics,
    outputTopic,
    windowMs: WINDOW_MS,
    graceMs: GRACE_MS,
    total,
    config: PEER_CONFIG,
  });
  return {
    kind: 'kstreams',
    events: r.events,
    ms: r.ms,
    events_per_s: r.events_per_s,
    batches: 0,
    examples: r.emitted,
    startup_ms: r.startup_ms,
    processed_ms: r.processed_ms,
    in_processor_ms: r.in_processor_ms,
    cpu_s: r.cpu_s,
  };
}

/**
 * Fairness check: the complete (A+B+C) sessions of ours (H with funnel ABC, any revision, any run)
 * and of the peer (every run's output) must be the same set of session ids.
 */
async function samePeerSessions(): Promise<Record<string, unknown>> {
  const ours = new Set(
    await readTopic(kafka, topics.trainingExamples, `${ns}-check-h`, (v) => {
      const h = JSON.parse(v.toString('utf8')) as { funnel?: string; recommend_session_id?: string };
      return h.funnel === 'ABC' && typeof h.recommend_session_id === 'string' ? h.recommend_session_id : null;
    }),
  );
  const theirs = new Set<string>();
  for (let i = 0; i < pairs; i++) {
    const ids = await readTopic(kafka, `${ns}.kstreams-out-${i}`, `${ns}-check-k${i}`, (v) => {
      const o = JSON.parse(v.toString('utf8')) as { recommend_session_id?: string };
      return typeof o.recommend_session_id === 'string' ? o.recommend_session_id : null;
    });
    for (const id of ids) theirs.add(id);
  }
  const onlyOurs = [...ours].filter((id) => !theirs.has(id));
  const onlyTheirs = [...theirs].filter((id) => !ours.has(id));
  return {
    same: onlyOurs.length === 0 && onlyTheirs.length === 0,
    ours_complete_sessions: ours.size,
    kafka_streams_complete_sessions: theirs.size,
    only_ours: onlyOurs.length,
    only_kafka_streams: onlyTheirs.length,
    examples_only_ours: onlyOurs.slice(0, 5),
    examples_only_kafka_streams: onlyTheirs.slice(0, 5),
  };
}

const runs: Measured[] = [];
let peerFailure: string | null = null;
let check: Record<string, unknown> | null = null;
try {
  for (let i = 0; i < pairs; i++) {
    const steps = [raw, parseOnly, join, produceOnly];
    if (rdkafka && !('error' in rdkafka)) steps.push(produceOnlyRdkafka);
    if (peerFailure === null && !('error' in peer)) steps.push(kstreams);
    for (const f of steps) {
      let m: Measured;
      try {
        m = await f(i);
      } catch (err) {
        // The peer failing (a JVM that cannot start, a Maven jar gone) costs its figures, not ours.
        if (f !== kstreams) throw err;
        peerFailure = (err as Error).message;
        console.log(`  kafka streams peer failed: ${peerFailure}`);
        continue;
      }
      runs.push(m);
      console.log(
        `  ${m.kind.padEnd(4)} #${i + 1}: ${fmt(m.events)} events in ${fmt(m.ms)} ms = ${fmt(m.events_per_s)} events/s ` +
          (m.kind === 'kstreams'
            ? `(${fmt(m.examples)} complete sessions; CPU ${fmt(m.cpu_s, 1)} s; all processed after ${fmt(m.processed_ms)} ms, ` +
              `${fmt(m.in_processor_ms)} ms of it in the processor; ` +
              `JVM start → first record ${fmt(m.startup_ms)} ms, not counted)`
            : m.kind === 'produce' || m.kind === 'produce-rdkafka'
              ? `of input's outputs (${fmt(m.examples)} messages in ${fmt(m.batches)} sends; CPU ${fmt(m.cpu_s, 1)} s)`
              : `(${fmt(m.batches)} batches${m.examples !== undefined ? `, ${fmt(m.examples)} H, ${fmt(m.dead_letters)} dead letters` : ''}` +
                `${m.cpu_s != null ? `; CPU ${fmt(m.cpu_s, 1)} s` : ''})`) +
          (m.timings
            ? `; of which in steps ${fmt(m.timings.stepMs)} ms (sends ${fmt(m.timings.sendMs)} ms × ${m.timings.sends}, ` +
              `commits ${fmt(m.timings.commitMs)} ms × ${m.timings.commits}), between steps ${fmt(m.timings.betweenMs)} ms`
            : ''),
      );
    }
  }
  if (!('error' in peer) && peerFailure === null) check = await samePeerSessions();
} finally {
  if (!args.keep) {
    // Ours, and the peer's outputs and change logs (named after the run's namespace).
    const admin = kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(ns));
    await admin.disconnect();
    await deleteTopics(kafka, [...new Set([...Object.values(topics), ...mine])]);
  }
}

const rawRates = runs.filter((r) => r.kind === 'raw').map((r) => r.events_per_s);
const parseRates = runs.filter((r) => r.kind === 'parse').map((r) => r.events_per_s);
const parseCeiling = median(parseRates) / median(rawRates);
const joinRates = runs.filter((r) => r.kind === 'join').map((r) => r.events_per_s);
const produceRates = runs.filter((r) => r.kind === 'produce').map((r) => r.events_per_s);
const produceCeiling = median(produceRates) / median(rawRates);
const rdkRates = runs.filter((r) => r.kind === 'produce-rdkafka').map((r) => r.events_per_s);
const rdkCeiling = rdkRates.length > 0 ? median(rdkRates) / median(rawRates) : null;
const peerRates = runs.filter((r) => r.kind === 'kstreams').map((r) => r.events_per_s);
const ratio = median(joinRates) / median(rawRates);
const pairRatios = joinRates.map((j, i) => round(j / rawRates[i]!, 3));
const vsPeer = peerRates.length > 0 ? median(joinRates) / median(peerRates) : null;
console.log(
  `join-kafka: join ${fmt(median(joinRates))} events/s ÷ raw ${fmt(median(rawRates))} events/s = ${round(ratio, 3)} ` +
    `(pairs: ${pairRatios.join(', ')}; target ≥ 0.5)`,
);
console.log(
  `join-kafka: bound: JSON.parse of every value alone ${fmt(median(parseRates))} events/s = ${round(parseCeiling, 3)} of raw`,
);
console.log(
  `join-kafka: bound: producing the join's outputs alone ${fmt(median(produceRates))} input events/s = ` +
    `${round(produceCeiling, 3)} of raw (the join reached ${round(median(joinRates) / median(produceRates), 3)} of it)`,
);
if (rdkCeiling !== null) {
  console.log(
    `join-kafka: bound: the same outputs through librdkafka, all in flight ${fmt(median(rdkRates))} input events/s = ` +
      `${round(rdkCeiling, 3)} of raw`,
  );
}
if (vsPeer !== null) {
  console.log(
    `join-kafka: join ${fmt(median(joinRates))} events/s ÷ Kafka Streams ${fmt(median(peerRates))} events/s = ` +
      `${round(vsPeer, 3)} (target ≥ 1.0); same complete sessions: ${check?.same} ` +
      `(ours ${fmt(check?.ours_complete_sessions as number)}, theirs ${fmt(check?.kafka_streams_complete_sessions as number)})`,
  );
}
const notes: string[] = [];
if ('error' in peer) notes.push(`kafka streams peer: ${peer.error}`);
else if (peerFailure !== null) notes.push(`kafka streams peer failed: ${peerFailure.slice(0, 300)}`);
else if (check && check.same !== true) {
  notes.push(
    `kafka streams peer emitted a different set of complete sessions (only ours ${check.only_ours}, only theirs ${check.only_kafka_streams})`,
  );
}
const file = writeResult({
  benchmark: 'join-kafka',
  workload,
  reproduce,
  quick,
  params: {
    sessions,
    events: total,
    pairs,
    partitions: 6,
    spacingMs,
    users,
    namespace: ns,
    compression: args.compression,
  },
  figures: {
    join_kafka_ratio: round(ratio, 3),
    join_kafka_events_per_s: round(median(joinRates)),
    kafka_streams_events_per_s: peerRates.length > 0 ? round(median(peerRates)) : null,
    join_vs_kafka_streams: vsPeer === null ? null : round(vsPeer, 3),
  },
  ...(notes.length > 0 ? { notes } : {}),
  details: {
    produce_s: round(produceS, 1),
    topic_sizes: sizes,
    raw_events_per_s_median: round(median(rawRates)),
    // Not a baseline: the same bare consumer plus JSON.parse of every value, a ceiling on the ratio.
    parse_only_events_per_s_median: round(median(parseRates)),
    parse_only_ratio: round(parseCeiling, 3),
    // Not a baseline either: the first join run's sends alone (same messages, calls and order), a
    // ceiling on the ratio for this output volume on this client and broker.
    produce_only_events_per_s_median: round(median(produceRates)),
    produce_only_ratio: round(produceCeiling, 3),
    join_vs_produce_only: round(median(joinRates) / median(produceRates), 3),
    // `--rdkafka`: the same sends through librdkafka (node-rdkafka), all in flight at once.
    produce_only_rdkafka_events_per_s_median: rdkRates.length > 0 ? round(median(rdkRates)) : null,
    produce_only_rdkafka_ratio: rdkCeiling === null ? null : round(rdkCeiling, 3),
    ...(rdkafka && 'error' in rdkafka ? { produce_only_rdkafka_skipped: rdkafka.error } : {}),
    join_events_per_s_median: round(median(joinRates)),
    pair_ratios: pairRatios,
    kafka_streams_events_per_s_median: peerRates.length > 0 ? round(median(peerRates)) : null,
    // CPU per event (µs) while timed: the machine is shared, so this says more than wall time alone.
    cpu_us_per_event: Object.fromEntries(
      (['join', 'produce', 'produce-rdkafka', 'kstreams'] as const).map((k) => {
        const xs = runs.filter((r) => r.kind === k && typeof r.cpu_s === 'number');
        return [k, xs.length > 0 ? round(median(xs.map((r) => (r.cpu_s! * 1e6) / r.events)), 1) : null];
      }),
    ),
    kafka_streams_check: check,
    kafka_streams_setup:
      'Kafka Streams 3.9.1, 1 stream thread, at_least_once, commit.interval.ms 30 s (default) plus a commit ' +
      'requested once every input record was processed, in-memory change-logged store with the record cache, -Xmx1g G1',
    kafka_streams_config: PEER_CONFIG,
    runs: runs.map((r) => ({ ...r, ms: round(r.ms), events_per_s: round(r.events_per_s) })),
  },
  machine: machine(),
});
console.log(`wrote ${file}`);
process.exit(0);
