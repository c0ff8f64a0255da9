import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { expect } from 'vitest';
import { mulberry32 } from '../../common/random.ts';
import {
  type SessionEvent,
  type TopicNames,
  topicForEvent,
  topicNames,
  type UserProfile,
} from '../../schemas/index.ts';
import { partitionForKey } from '../../streams/log/murmur2.ts';
import { createRedisProfileStore } from '../../streams/stores/redis-stores.ts';
import { topicSpecs } from '../../streams/topology-config.ts';
import { syntheticTraffic } from '../fixtures/synthetic-sessions.ts';
import { embeddedWheel, expectProfileClose, TEST_CFG } from '../helpers/embedded-wheel.ts';
import type { Services } from './global-setup.ts';

export const ROOT = join(import.meta.dirname, '../..');

/** A fresh namespace per test: topics, consumer groups and Redis keys of its own. */
export function namespace(svc: Services) {
  const id = randomUUID().slice(0, 8);
  const ns = `it-${id}`;
  const topics = topicNames(ns);
  const env: Record<string, string> = {
    KAFKA_BROKERS: svc.kafkaBrokers,
    REDIS_URL: svc.redisUrl,
    TOPIC_NAMESPACE: ns,
    REDIS_PREFIX: `${ns}:`,
    JOIN_GROUP: `${ns}-join`,
    PROFILE_GROUP: `${ns}-profiles`,
    SESSION_PARTITIONS: String(TEST_CFG.sessionPartitions),
    TRAINING_PARTITIONS: String(TEST_CFG.trainingPartitions),
    WINDOW_MS: String(TEST_CFG.windowMs),
    GRACE_MS: String(TEST_CFG.graceMs),
    // Event times in these tests are synthetic; no wall-clock advance within a test's lifetime.
    IDLE_LAG_MS: String(600_000),
    IDLE_INTERVAL_MS: '200',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    MAX_BATCH: '50',
    EMBEDDING_DIM: '64',
    RECLUSTER_EVERY: '0',
    RECLUSTER_INTERVAL_MS: '0',
    HEALTH_PORT: '0',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  return { ns, topics, env, redisPrefix: `${ns}:` };
}

export interface StreamProcess {
  readonly proc: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `streams/main.ts` (what `npm run stream` runs) as its own process. */
export function spawnStream(env: Record<string, string>): StreamProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'streams/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, SERVICES_ENV_FILE: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
  proc.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export function kafkaClient(svc: Services): Kafka {
  return new Kafka({
    brokers: svc.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20 },
  });
}

/** A record for the A, B or C topic, good or bad, so the reference can replay the very same bytes. */
export interface RawRecord {
  readonly type: SessionEvent['type'];
  readonly key: string | null;
  readonly value: Buffer;
}

export const asRecords = (events: readonly SessionEvent[]): RawRecord[] =>
  events.map((e) => ({ type: e.type, key: e.recommend_session_id, value: Buffer.from(JSON.stringify(e)) }));

const toRecords = (input: readonly SessionEvent[] | readonly RawRecord[]): RawRecord[] =>
  input.length > 0 && 'value' in input[0]! ? [...(input as RawRecord[])] : asRecords(input as SessionEvent[]);

/** Produces records in order, keyed as given (an editor service keys by recommend_session_id). */
const ensured = new Set<string>();

/**
 * The namespace's topics, created as the processor would (same layout) unless they exist: a test
 * that produces while the processor is still starting would otherwise send to topics nobody has
 * created yet, and the producer gives up ("does not host this topic-partition") on a busy machine.
 */
async function ensureTopics(kafka: Kafka, topics: TopicNames): Promise<void> {
  if (ensured.has(topics.recommend)) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const specs = topicSpecs({
      topics,
      sessionPartitions: TEST_CFG.sessionPartitions,
      trainingPartitions: TEST_CFG.trainingPartitions,
    });
    await admin.createTopics({
      waitForLeaders: true,
      topics: specs.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: 1 })),
    });
  } catch (err) {
    // The processor created them first: fine, same layout.
    if (!String((err as Error).message).includes('already exists')) throw err;
  } finally {
    await admin.disconnect();
  }
  ensured.add(topics.recommend);
}

export async function produce(
  kafka: Kafka,
  topics: TopicNames,
  input: readonly SessionEvent[] | readonly RawRecord[],
): Promise<void> {
  await ensureTopics(kafka, topics);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const r of toRecords(input)) {
      await producer.send({
        topic: topicForEvent(topics, r.type),
        acks: -1,
        messages: [{ key: r.key, value: r.value }],
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * One orphan event far in the future on every partition of A, B and C: it moves every partition's
 * watermark past all earlier sessions, so they close, and it never closes itself.
 */
export function flushEvents(partitions: number, user = 'flush-user'): SessionEvent[] {
  const ts = '2031-01-01T00:00:00.000Z';
  const out: SessionEvent[] = [];
  for (let p = 0; p < partitions; p++) {
    let i = 0;
    while (partitionForKey(`flush-${p}-${i}`, partitions) !== p) i++;
    const id = `flush-${p}-${i}`;
    const base = { schema_version: 1 as const, ts, user_id: user, recommend_session_id: id };
    out.push({
      ...base,
      type: 'selection',
      event_id: `${id}-c`,
      chosen_index: null,
      edited: false,
    });
    out.push({
      ...base,
      type: 'paraphrase',
      event_id: `${id}-b`,
      request: { style_request: 'flush' },
      candidates: ['flush'],
      llm: {
        provider: 'offline',
        model: 'flush',
        variant: 'A',
        prompt_tokens: 0,
        completion_tokens: 0,
        latency_ms: 0,
      },
    });
    out.push({
      ...base,
      type: 'recommend',
      event_id: `${id}-a`,
      context: { text: 'flush', language: 'en' },
      options: [
        {
          category: 'general',
          intensity: 'weak',
          rank: 1,
          score: 1,
          propensity: 1,
          components: { vec: 0, doc: 0, user: 0, cluster: 0 },
        },
      ],
      alpha: 0,
      beta: 0,
      variant: 'A',
      epsilon: 0,
      explored: false,
      model_version: 'flush',
      profile_version: null,
    });
  }
  return out;
}

export interface Outcome {
  readonly examples: Map<string, unknown>;
  readonly profiles: Map<string, UserProfile>;
  /** Dead-letter codes, sorted. */
  readonly deadLetterCodes: string[];
}

/** What the embedded wheel makes of the same records: the expected result. */
export async function reference(input: readonly SessionEvent[] | readonly RawRecord[]): Promise<Outcome> {
  const records = toRecords(input);
  const w = await embeddedWheel();
  for (const r of records) w.appendRaw(topicForEvent(TEST_CFG.topics, r.type), r.key, r.value);
  const p = w.start();
  const until = Date.now() + 60_000;
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    if (Date.now() > until) throw new Error('reference run did not settle');
    await new Promise((r) => setTimeout(r, 40));
    const n = w.examplesById().size;
    const done =
      p.join.stats.records >= records.length &&
      w.log.lag(TEST_CFG.profileGroup, [TEST_CFG.topics.trainingExamples]) === 0;
    stable = done && n === last ? stable + 1 : 0;
    last = n;
  }
  await p.join.stop();
  await p.profiles.stop();
  const examples = new Map([...w.examplesById()].filter(([id]) => !id.startsWith('h:flush-')));
  const profiles = new Map([...w.profileSnapshot()].filter(([u]) => u !== 'flush-user'));
  const deadLetterCodes = w
    .deadLetters()
    .map((d) => String(d.code))
    .sort();
  return { examples, profiles, deadLetterCodes };
}

/** Distinct H by event_id on a topic, failing if two records share an id but differ. */
export async function readExamples(kafka: Kafka, topic: string, ms = 3000): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const v of await readTopic(kafka, topic, ms)) {
    const h = v as { event_id: string };
    if (h.event_id.startsWith('h:flush-')) continue;
    const prev = out.get(h.event_id);
    if (prev !== undefined)
      expect(JSON.stringify(h), `two different H with id ${h.event_id}`).toBe(JSON.stringify(prev));
    out.set(h.event_id, h);
  }
  return out;
}

/** Every message of a topic as parsed JSON, read from the beginning by a throwaway group. */
export async function readTopic(kafka: Kafka, topic: string, quietMs = 3000): Promise<unknown[]> {
  return (await readTopicRaw(kafka, topic, quietMs)).map((v) => JSON.parse(v.toString()));
}

/** Every message value of a topic, as bytes, read from the beginning by a throwaway group. */
export async function readTopicRaw(kafka: Kafka, topic: string, quietMs = 3000): Promise<Buffer[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((s, o) => s + Number(o.high), 0);
  const out: Buffer[] = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, quietMs + 20_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        out.push(message.value!);
        if (out.length >= total) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

export async function readProfiles(svc: Services, prefix: string): Promise<Map<string, UserProfile>> {
  const redis = new Redis(svc.redisUrl);
  try {
    const store = createRedisProfileStore(redis, { prefix });
    const out = new Map<string, UserProfile>();
    for await (const page of store.scan())
      for (const p of page) if (p.user_id !== 'flush-user') out.set(p.user_id, p);
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Polls until `check` stops throwing, or rethrows its last error after `ms`. */
export async function eventually(check: () => Promise<void>, ms = 90_000, every = 1000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, every));
    }
  }
}

/** The Kafka run ended where the embedded reference did: same H (id + revision + content), same G. */
export async function expectSameOutcome(
  kafka: Kafka,
  svc: Services,
  topics: TopicNames,
  prefix: string,
  ref: Outcome,
) {
  const got = await readExamples(kafka, topics.trainingExamples);
  expect([...got.keys()].sort()).toEqual([...ref.examples.keys()].sort());
  // The reference ran on the default topic names; only the namespace differs.
  const ns = topics.recommend.slice(0, -'.a'.length);
  const renamed = (h: unknown) =>
    JSON.parse(
      JSON.stringify(h).replaceAll(`"topic":"${ns}.`, `"topic":"${TEST_CFG.topics.recommend.slice(0, -1)}`),
    );
  for (const [id, h] of ref.examples) expect(renamed(got.get(id)), id).toEqual(h);
  const profiles = await readProfiles(svc, prefix);
  expect([...profiles.keys()].sort()).toEqual([...ref.profiles.keys()].sort());
  for (const [u, g] of ref.profiles) expectProfileClose(profiles.get(u)!, g);
}

/** Synthetic traffic for a namespace, closed by flush events (one per A/B/C partition). */
export function sessionTraffic(
  sessions: number,
  seed: number,
  startMs: number,
  completeShare = 0.5,
): SessionEvent[] {
  const t = syntheticTraffic({ sessions, users: 60, seed, startMs, completeShare });
  return [...t.events, ...flushEvents(TEST_CFG.sessionPartitions, `flush-${seed}`)];
}

/**
 * Produces `events` in random chunks while the stream processor is kill -9'ed `kills` times and
 * restarted; resolves with the process that runs at the end.
 */
export async function produceWhileKilling(o: {
  kafka: Kafka;
  topics: TopicNames;
  events: readonly SessionEvent[];
  start: () => StreamProcess;
  kills: number;
  seed: number;
}): Promise<StreamProcess> {
  const rnd = mulberry32(o.seed);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let p = o.start();
  let produced = 0;
  const producing = (async () => {
    while (produced < o.events.length) {
      const chunk = o.events.slice(produced, produced + 100 + Math.floor(rnd() * 150));
      await produce(o.kafka, o.topics, chunk);
      produced += chunk.length;
      await sleep(150);
    }
  })();
  for (let kill = 0; kill < o.kills; kill++) {
    await sleep(1500 + Math.floor(rnd() * 2500));
    await p.kill('SIGKILL');
    p = o.start();
  }
  await producing;
  return p;
}

/** Stops a local store (scripts/services) for at least `ms`, running `meanwhile` while it is away. */
export async function withStoreStopped(
  name: string,
  ms: number,
  meanwhile: () => Promise<void>,
): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts/services/down.sh'), '--only', name], { stdio: 'ignore' });
  const downAt = Date.now();
  try {
    await meanwhile();
  } finally {
    await new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - downAt))));
    execFileSync('bash', [join(ROOT, 'scripts/services/up.sh'), '--only', name], { stdio: 'ignore' });
  }
}
