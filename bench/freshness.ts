/**
 * freshness — a selection (C) produced → the user's profile in Redis reflects it.
 *
 *   npx tsx bench/freshness.ts [--quick] [--sessions 1000] [--rate 50]
 *
 * Needs Kafka and Redis (KAFKA_BROKERS + REDIS_URL, or .services.env); skips otherwise.
 *
 * Runs the real stream processor — `streams/main.ts` (`npm run stream`, ROLE=all: the join and the
 * profile fold, default settings: 6 partitions, 384-dim embeddings, re-clustering in a worker
 * every 1,000 profile updates) — as its own process on a fresh namespace (topics, groups and
 * Redis prefix). This process produces happy-path sessions at a steady 50 sessions/s (150
 * events/s): every 20 ms a session starts, its A is produced, B 5 ms later, C 5 ms after that, all
 * with the wall clock as event time, keyed by session; users rotate over 1,000 ids so a user
 * never has two sessions in flight. For each C the clock starts just before its produce call and
 * stops when Redis announces a write to that user's profile hash (keyspace notification) whose
 * content has the session in `recent` (checked with one HGET right after the notification; if the
 * server refuses CONFIG SET, it polls every 2 ms instead). The first 50 sessions warm up and are
 * not counted. Figures: p50 and p99 over ≥ 500 samples (target p99 ≤ 100 ms). The namespace's
 * topics and keys are deleted afterwards, and notify-keyspace-events is set back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import { type SessionEvent, topicForEvent, type UserProfile } from '../schemas/index.ts';
import { syntheticTraffic } from '../test/fixtures/synthetic-sessions.ts';
import { fmt, latencySummary, machine, ROOT, requireServices, round, writeResult } from './lib/common.ts';
import { benchKafka, benchNamespace, deleteTopics, readTopic } from './lib/kafka.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    rate: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '50' },
  },
});
const quick = args.quick!;
const measured = Number(args.sessions ?? (quick ? 100 : 1000));
const warmup = Number(args.warmup);
const rate = Number(args.rate);
const intervalMs = 1000 / rate;
const users = 1000;
const gapMs = 5;

const workload =
  `streams/main.ts (ROLE=all, defaults) as a child process on a fresh namespace; ${rate} happy-path sessions/s ` +
  `(A, B +${gapMs} ms, C +${gapMs} ms, wall-clock event time), ${fmt(users)} rotating users; per C: produce call → ` +
  `Redis keyspace notification of the profile write that contains the session; ${warmup} warm-up sessions, then ${fmt(measured)} measured.`;
const reproduce = `npx tsx bench/freshness.ts${quick ? ' --quick' : ''} --sessions ${measured} --rate ${rate}`;

const svc = await requireServices();
if ('missing' in svc) {
  console.log(`freshness: skipped — ${svc.missing}`);
  writeResult({
    benchmark: 'freshness',
    workload,
    reproduce,
    quick,
    params: { sessions: measured, rate },
    figures: { freshness_p50_ms: null, freshness_p99_ms: null },
    skipped: svc.missing,
    machine: machine(),
  });
  process.exit(0);
}

const { ns, topics } = benchNamespace('fresh');
const prefix = `${ns}:`;
const total = warmup + measured;

// The sessions: the simulator's happy path, re-stamped with the wall clock when sent.
const { events } = syntheticTraffic({
  sessions: total,
  users,
  seed: 41,
  startMs: Date.now(),
  completeShare: 1,
});
const bySession = new Map<string, SessionEvent[]>();
for (const e of events) {
  const list = bySession.get(e.recommend_session_id) ?? [];
  list.push(e);
  bySession.set(e.recommend_session_id, list);
}
const sessions = [...bySession.entries()].map(([id, evs], i) => ({
  id,
  user: `fresh-user-${i % users}`,
  a: evs.find((e) => e.type === 'recommend')!,
  b: evs.find((e) => e.type === 'paraphrase')!,
  c: evs.find((e) => e.type === 'selection')!,
}));

// --- the processor -------------------------------------------------------------------------
const output: string[] = [];
const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'streams/main.ts'], {
  cwd: ROOT,
  env: {
    ...process.env,
    SERVICES_ENV_FILE: '/nonexistent',
    KAFKA_BROKERS: svc.kafkaBrokers,
    REDIS_URL: svc.redisUrl,
    TOPIC_NAMESPACE: ns,
    REDIS_PREFIX: prefix,
    JOIN_GROUP: `${ns}-join`,
    PROFILE_GROUP: `${ns}-profiles`,
    HEALTH_PORT: '0',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
proc.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
proc.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
const running = async (ms: number) => {
  const until = Date.now() + ms;
  while (!output.join('').includes('"msg":"running"')) {
    if (proc.exitCode !== null) throw new Error(`stream processor exited:\n${output.join('')}`);
    if (Date.now() > until)
      throw new Error(`stream processor not running after ${ms} ms:\n${output.join('')}`);
    await sleep(50);
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the observer --------------------------------------------------------------------------
const redis = new Redis(svc.redisUrl);
const sub = new Redis(svc.redisUrl);
const producedAt = new Map<string, number>(); // session → when its C was handed to the producer
const pendingByUser = new Map<string, Set<string>>(); // user → sessions whose C is not in G yet
const latencies = new Map<string, number>();
// The same instants on the wall clock, to split each sample at its H's Kafka timestamp (the join's
// producer sets it when it sends): C → H sent (the join's hop), H sent → G in Redis (the fold's).
const producedEpoch = new Map<string, number>();
const seenEpoch = new Map<string, number>();
let previousNotify: string | null = null;
let mode: 'keyspace' | 'poll' = 'keyspace';
try {
  const cur = (await redis.config('GET', 'notify-keyspace-events')) as string[];
  previousNotify = cur[1] ?? '';
  const flags = new Set(previousNotify.split(''));
  flags.add('K');
  flags.add('h');
  await redis.config('SET', 'notify-keyspace-events', [...flags].join(''));
} catch {
  mode = 'poll';
}

const checkUser = async (user: string, at: number, atEpoch = Date.now()) => {
  const pending = pendingByUser.get(user);
  if (!pending || pending.size === 0) return;
  const raw = await redis.hget(`${prefix}user_profile:${user}`, 'data');
  if (raw === null) return;
  const g = JSON.parse(raw) as UserProfile;
  for (const sid of [...pending]) {
    if (g.recent[sid] !== undefined) {
      latencies.set(sid, at - producedAt.get(sid)!);
      seenEpoch.set(sid, atEpoch);
      pending.delete(sid);
    }
  }
};
let pollTimer: NodeJS.Timeout | null = null;
if (mode === 'keyspace') {
  const db = Number(new URL(svc.redisUrl).pathname.slice(1) || '0');
  const pattern = `__keyspace@${db}__:${prefix}user_profile:*`;
  await sub.psubscribe(pattern);
  sub.on('pmessage', (_pattern: string, channel: string, event: string) => {
    if (event !== 'hset') return;
    const at = performance.now();
    const atEpoch = Date.now();
    const user = channel.slice(channel.indexOf(`${prefix}user_profile:`) + `${prefix}user_profile:`.length);
    void checkUser(user, at, atEpoch);
  });
} else {
  pollTimer = setInterval(() => {
    const at = performance.now();
    for (const user of pendingByUser.keys()) void checkUser(user, at);
  }, 2);
}

// --- the producer --------------------------------------------------------------------------
const kafka = benchKafka(svc.kafkaBrokers, `${ns}-producer`);
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const produceMs: number[] = [];
const send = async (e: SessionEvent, user: string) => {
  const ev = { ...e, user_id: user, ts: new Date().toISOString() };
  await producer.send({
    topic: topicForEvent(topics, e.type),
    acks: -1,
    messages: [{ key: e.recommend_session_id, value: Buffer.from(JSON.stringify(ev)) }],
  });
};

let exitCode: number | null = null;
let hSentAt = new Map<string, number>();
try {
  await running(60_000);
  await producer.connect();
  console.log(
    `freshness: processor up (namespace ${ns}); ${mode === 'keyspace' ? 'keyspace notifications' : 'polling'}; ` +
      `${warmup} warm-up + ${measured} sessions at ${rate}/s`,
  );
  // Warm-up: one session, waited for, so both consumer groups have joined before timing starts.
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  const runSession = async (i: number) => {
    const s = sessions[i]!;
    await send(s.a, s.user);
    await sleep(gapMs);
    await send(s.b, s.user);
    await sleep(gapMs);
    const pending = pendingByUser.get(s.user) ?? new Set<string>();
    pendingByUser.set(s.user, pending);
    pending.add(s.id);
    const t0 = performance.now();
    producedAt.set(s.id, t0);
    producedEpoch.set(s.id, Date.now());
    await send(s.c, s.user);
    produceMs.push(performance.now() - t0);
  };
  await runSession(0);
  for (let until = Date.now() + 90_000; !latencies.has(sessions[0]!.id); ) {
    if (Date.now() > until) throw new Error(`the first session never reached Redis:\n${output.join('')}`);
    if (mode === 'keyspace') await checkUser(sessions[0]!.user, performance.now());
    await sleep(20);
  }
  console.log(
    `  first session in Redis after ${fmt((performance.now() - started) / 1000, 1)} s (group joins)`,
  );
  // Steady rate: session i starts at i × interval, whatever the previous ones are doing.
  const t0 = performance.now();
  for (let i = 1; i < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(runSession(i));
  }
  await Promise.all(inflight);
  const until = Date.now() + 15_000;
  while ([...pendingByUser.values()].some((p) => p.size > 0) && Date.now() < until) await sleep(50);
} finally {
  if (pollTimer) clearInterval(pollTimer);
  await producer.disconnect().catch(() => {});
  if (proc.exitCode === null) proc.kill('SIGTERM');
  exitCode = await Promise.race([exited, sleep(20_000).then(() => null)]);
  if (proc.exitCode === null) proc.kill('SIGKILL');
  if (previousNotify !== null)
    await redis.config('SET', 'notify-keyspace-events', previousNotify).catch(() => {});
  sub.disconnect();
  // Clean up the namespace: its keys and topics.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  hSentAt = new Map(
    await readTopic(kafka, topics.trainingExamples, `${ns}-check-h`, (v, ts) => {
      const h = JSON.parse(v.toString('utf8')) as { recommend_session_id?: string; revision?: number };
      return h.revision === 1 && typeof h.recommend_session_id === 'string'
        ? ([h.recommend_session_id, ts] as const)
        : null;
    }).catch(() => []),
  );
  await deleteTopics(kafka, Object.values(topics));
}

const ids = sessions.slice(warmup).map((s) => s.id);
const samples = ids.map((id) => latencies.get(id)).filter((x): x is number => x !== undefined);
const missing = ids.length - samples.length;
const lat = latencySummary(samples);
const produce = latencySummary(produceMs.slice(warmup));
// Each sample split at its H's timestamp (ms resolution), and where the slowest 1 % spent it.
const split = ids
  .filter((id) => latencies.has(id) && hSentAt.has(id))
  .map((id) => ({
    at: producedEpoch.get(id)!,
    total: latencies.get(id)!,
    join: hSentAt.get(id)! - producedEpoch.get(id)!,
    fold: seenEpoch.get(id)! - hSentAt.get(id)!,
  }));
const joinHop = latencySummary(split.map((x) => x.join));
const foldHop = latencySummary(split.map((x) => x.fold));
const tail = [...split]
  .sort((a, b) => b.total - a.total)
  .slice(0, Math.max(1, Math.ceil(split.length / 100)));
const firstAt = split.length > 0 ? Math.min(...split.map((x) => x.at)) : 0;
console.log(
  `freshness: ${fmt(samples.length)} samples: p50 ${lat.p50_ms} ms, p90 ${lat.p90_ms} ms, p99 ${lat.p99_ms} ms, max ${lat.max_ms} ms ` +
    `(target p99 ≤ 100)${missing > 0 ? `; ${missing} never seen` : ''}; produce ack p50 ${produce.p50_ms} ms`,
);
console.log(
  `  split at H's timestamp (${fmt(split.length)} samples): C → H sent p50 ${joinHop.p50_ms} / p99 ${joinHop.p99_ms} ms, ` +
    `H sent → G p50 ${foldHop.p50_ms} / p99 ${foldHop.p99_ms} ms; the slowest 1 %: ` +
    tail
      .map((x) => `${Math.round(x.join)}+${Math.round(x.fold)} at ${fmt((x.at - firstAt) / 1000, 2)} s`)
      .join(', '),
);
const file = writeResult({
  benchmark: 'freshness',
  workload,
  reproduce,
  quick,
  params: { sessions: measured, warmup, rate, users, gapMs, observer: mode, namespace: ns },
  figures: {
    freshness_p50_ms: samples.length > 0 ? lat.p50_ms : null,
    freshness_p99_ms: samples.length > 0 ? lat.p99_ms : null,
  },
  notes:
    missing > 0 ? [`${missing} measured sessions never showed up in Redis within 15 s after the last`] : [],
  details: {
    latency: lat,
    produce_ack: produce,
    join_hop: joinHop,
    fold_hop: foldHop,
    slowest_1_percent: tail.map((x) => ({
      at_s: round((x.at - firstAt) / 1000, 3),
      total_ms: Math.round(x.total),
      join_ms: x.join,
      fold_ms: x.fold,
    })),
    missing,
    processor_exit_code: exitCode,
    processor_log_tail: output.join('').split('\n').slice(-8),
  },
  machine: machine(),
});
console.log(`wrote ${file}`);
process.exit(0);
