/** Kafka helpers for the benchmarks that run against the real broker. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Observable } from 'rxjs';
import { type SessionEvent, type TopicNames, topicForEvent, topicNames } from '../../schemas/index.ts';
import { DEFAULT_MAX_EVENT_BYTES } from '../../streams/codec/session-codec.ts';
import type { Delivery, EventLog, LogMessage } from '../../streams/log/event-log.ts';
import { DEFAULT_TOPOLOGY_CONFIG, type TopologyConfig } from '../../streams/topology-config.ts';
import { GRACE_MS, WINDOW_MS } from './join-workload.ts';

/** A fresh namespace per benchmark run: topics and consumer groups of its own. */
export function benchNamespace(prefix: string): { ns: string; topics: TopicNames } {
  const ns = `bench-${prefix}-${randomUUID().slice(0, 8)}`;
  return { ns, topics: topicNames(ns) };
}

/** The topology configuration `npm run stream` would build, on the benchmark's topics. */
export function benchTopology(
  ns: string,
  topics: TopicNames,
  over: Partial<TopologyConfig> = {},
): TopologyConfig {
  return {
    ...DEFAULT_TOPOLOGY_CONFIG,
    topics,
    sessionPartitions: 6,
    trainingPartitions: 6,
    joinGroup: `${ns}-join`,
    profileGroup: `${ns}-profiles`,
    windowMs: WINDOW_MS,
    graceMs: GRACE_MS,
    idleLagMs: 5_000,
    maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
    maxBatchSize: 500,
    recluster: { k: 8, seed: 1, everyUpdates: 0 },
    ...over,
  };
}

export function benchKafka(brokers: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10 },
  });
}

/**
 * Produces events keyed by recommend_session_id (so A, B and C of a session share a partition),
 * in append order, a few thousand per request, as editor services would in aggregate.
 */
export async function produceEvents(
  kafka: Kafka,
  topics: TopicNames,
  events: Iterable<SessionEvent>,
  perRequest = 5000,
): Promise<number> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let n = 0;
  try {
    let pending = new Map<string, { key: string; value: Buffer }[]>();
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...pending].map(([topic, messages]) => ({ topic, messages })),
      });
      pending = new Map();
      size = 0;
    };
    for (const e of events) {
      const topic = topicForEvent(topics, e.type);
      let list = pending.get(topic);
      if (!list) {
        list = [];
        pending.set(topic, list);
      }
      list.push({ key: e.recommend_session_id, value: Buffer.from(JSON.stringify(e)) });
      n++;
      if (++size >= perRequest) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return n;
}

/** Total messages in the topics (sum of high watermarks; the topics are fresh, so from 0). */
export async function topicSizes(kafka: Kafka, names: readonly string[]): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of names) {
      const offsets = await admin.fetchTopicOffsets(t);
      out[t] = offsets.reduce((s, o) => s + Number(o.high), 0);
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, names: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...names], timeout: 10_000 });
  } catch {
    // Best effort: the broker's retention removes them later anyway.
  } finally {
    await admin.disconnect();
  }
}

/** Where the time of a consumer's batches went, as seen from the event-log port. */
/**
 * Reads a topic from the start to its current end with a throw-away consumer group and returns
 * what `pick` makes of each value (null: skip).
 */
export async function readTopic<T>(
  kafka: Kafka,
  topic: string,
  group: string,
  pick: (value: Buffer, timestamp: number) => T | null,
): Promise<T[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = ends.reduce((s, o) => s + Number(o.high), 0);
  const out: T[] = [];
  if (want === 0) return out;
  const consumer = kafka.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`reading ${topic}: ${seen} of ${want} after 120 s`)),
      120_000,
    );
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value) {
            const v = pick(m.value, Number(m.timestamp));
            if (v !== null) out.push(v);
          }
          seen++;
        }
        if (seen >= want) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

export interface LogTimings {
  /** Batch delivered → acknowledged (the topology's whole step: decode, join, sinks, commit). */
  stepMs: number;
  /** Acknowledged → next batch delivered (kafkajs fetching, and waiting for the broker). */
  betweenMs: number;
  sendMs: number;
  sends: number;
  sentMessages: number;
  commitMs: number;
  commits: number;
}

/**
 * Wraps an event log so a benchmark can see when a consumer got its first batch, when each batch
 * was acknowledged (the topology acknowledges after its sinks and commit), and how long the sends
 * and commits inside took.
 */
export function tapLog(
  log: EventLog,
  on: {
    firstBatch?: (at: number) => void;
    acked?: (records: number, at: number) => void;
    /** Every send, as it was asked for (topic and messages), before it goes out. */
    sent?: (topic: string, messages: readonly LogMessage[]) => void;
  },
): EventLog & { readonly timings: LogTimings } {
  let first = true;
  let lastAck = 0;
  const timings: LogTimings = {
    stepMs: 0,
    betweenMs: 0,
    sendMs: 0,
    sends: 0,
    sentMessages: 0,
    commitMs: 0,
    commits: 0,
  };
  return {
    timings,
    ensureTopics: (specs) => log.ensureTopics(specs),
    topicEnds: (topics) => log.topicEnds(topics),
    async send(topic, messages) {
      on.sent?.(topic, messages);
      const t = performance.now();
      await log.send(topic, messages);
      timings.sendMs += performance.now() - t;
      timings.sends++;
      timings.sentMessages += messages.length;
    },
    close: () => log.close(),
    consumer(opts) {
      const c = log.consumer(opts);
      return {
        async commit(offsets) {
          const t = performance.now();
          await c.commit(offsets);
          timings.commitMs += performance.now() - t;
          timings.commits++;
        },
        deliveries$: new Observable<Delivery>((subscriber) =>
          c.deliveries$.subscribe({
            next(d) {
              const ev = d.event;
              if (ev.kind !== 'batch') return subscriber.next(d);
              const delivered = performance.now();
              if (first) {
                first = false;
                on.firstBatch?.(delivered);
              } else if (lastAck > 0) timings.betweenMs += delivered - lastAck;
              subscriber.next({
                event: ev,
                ack: () => {
                  d.ack();
                  lastAck = performance.now();
                  timings.stepMs += lastAck - delivered;
                  on.acked?.(ev.records.length, lastAck);
                },
              });
            },
            error: (e) => subscriber.error(e),
            complete: () => subscriber.complete(),
          }),
        ),
      };
    },
  };
}
