import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import kafkajs, {
  type Admin,
  CompressionTypes,
  type Consumer,
  Kafka,
  logLevel as LogLevel,
  type logCreator,
  type Producer,
} from 'kafkajs';
import { Observable } from 'rxjs';
import { CoPartitionedAssigner } from './co-partitioned-assigner.ts';
import type {
  CommittedOffset,
  ConsumerOptions,
  Delivery,
  EventLog,
  LogConsumer,
  LogMessage,
  LogRecord,
  SourceEvent,
  TopicPartition,
  TopicSpec,
} from './event-log.ts';
import { LogUnavailableError, TopicLayoutError } from './event-log.ts';
import { splitBySize } from './split-by-size.ts';

export interface KafkaLogOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** While caught up, how often to tell the topology that time passed (default 1000 ms). */
  readonly idleIntervalMs?: number;
  /** Longest the broker holds a fetch open when there is no data (default 500 ms). */
  readonly maxWaitTimeInMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly clock?: () => number;
  /** Where kafkajs's own log lines go (default: warnings and errors to stderr as one JSON line). */
  readonly logCreator?: logCreator;
  readonly logLevel?: LogLevel;
  /**
   * A `send` is split into produce requests of at most this many bytes (default 900,000), below
   * the broker's default `message.max.bytes` of 1 MiB per record batch. Raise both together.
   */
  readonly maxRequestBytes?: number;
  /**
   * Codec of produced record batches (default gzip at level 1). gzip is the only codec kafkajs
   * ships (lz4, snappy and zstd need codec packages); consumers pay a cheap `unzip` on zlib's
   * thread pool. `CompressionTypes.None` turns it off.
   */
  readonly compression?: CompressionTypes;
}

const gzipFast = promisify(gzip);
const unzipAsync = promisify(unzip);
/**
 * kafkajs's gzip codec at zlib level 1 instead of 6 (what it registers; decompression is the same
 * `unzip`). Produced H (~2.5 KB of JSON each) shrinks about 5×, and kafkajs's CRC-32C in JS, the
 * socket and the broker's log then handle a fifth of the bytes: in bench/lib/produce-probe.ts
 * (20,000 H, 500 per send, acks=all, alternating, 3 rounds) sends went from ~5,300 msgs/s
 * uncompressed to ~7,000 at level 6 and ~10,400 at level 1. The codec table is kafkajs's and
 * process-wide; level 1 only changes how hard a batch is squeezed, never what a consumer reads.
 */
kafkajs.CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: (encoder: { buffer: Buffer }) => gzipFast(encoder.buffer, { level: 1 }),
  decompress: (buffer: Buffer) => unzipAsync(buffer),
});

const quietLogCreator: logCreator =
  () =>
  ({ level, log }) => {
    if (level > LogLevel.WARN) return;
    const { message, error, groupId } = log as { message: string; error?: string; groupId?: string };
    process.stderr.write(`${JSON.stringify({ kafkajs: LogLevel[level], message, error, groupId })}\n`);
  };

/**
 * The event-log port on Kafka (kafkajs). Consumers never auto-commit: the topology commits
 * the join's checkpoints, with their metadata, after its sinks confirmed. One batch is in flight
 * per consumer (`partitionsConsumedConcurrently: 1`, and kafkajs fetches no more until the batch
 * is acknowledged), which is the back-pressure.
 *
 * @example
 * const log = createKafkaLog({ brokers: ['127.0.0.1:19092'] });
 * await log.ensureTopics([{ topic: 'sentencify.a', partitions: 6 }]);
 */
export function createKafkaLog(opts: KafkaLogOptions): EventLog & {
  readonly kafka: Kafka;
  admin(): Promise<Admin>;
} {
  const kafka = new Kafka({
    clientId: opts.clientId ?? 'sentencify',
    brokers: [...opts.brokers],
    logLevel: opts.logLevel ?? LogLevel.WARN,
    logCreator: opts.logCreator ?? quietLogCreator,
    retry: { initialRetryTime: 200, retries: 20, maxRetryTime: 5000 },
  });
  const clock = opts.clock ?? Date.now;
  let admin: Admin | null = null;
  let producer: Producer | null = null;
  let producerReady: Promise<Producer> | null = null;
  const getAdmin = async () => {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    return admin;
  };
  const getProducer = () => {
    if (!producerReady) {
      producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
      const p = producer;
      producerReady = p.connect().then(() => p);
      producerReady.catch(() => {
        producerReady = null;
      });
    }
    return producerReady;
  };

  return {
    kafka,
    admin: getAdmin,
    async ensureTopics(specs: readonly TopicSpec[]) {
      const a = await getAdmin();
      const existing = new Set(await a.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        try {
          await a.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.partitions,
              replicationFactor: -1,
            })),
          });
        } catch (err) {
          // Another instance may have created them first; the check below is what matters.
          if (!String((err as Error).message).includes('already exists')) throw err;
        }
      }
      const meta = await a.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
      for (const s of specs) {
        const t = meta.topics.find((x) => x.name === s.topic);
        if (!t) throw new Error(`topic ${s.topic} is missing after creation`);
        if (t.partitions.length !== s.partitions) {
          throw new TopicLayoutError(
            `topic ${s.topic} has ${t.partitions.length} partitions, not ${s.partitions}: A, B and C must be co-partitioned`,
          );
        }
      }
    },
    async topicEnds(topics: readonly string[]) {
      const a = await getAdmin();
      const out: CommittedOffset[] = [];
      for (const topic of topics) {
        for (const p of await a.fetchTopicOffsets(topic))
          out.push({ topic, partition: p.partition, offset: Number(p.high), metadata: null });
      }
      return out;
    },
    async send(topic: string, messages: readonly LogMessage[]) {
      if (messages.length === 0) return;
      const p = await getProducer();
      // One request per run, in order: a partition's messages keep their order, and a large
      // backlog (a replay, a burst of H) never makes a batch the broker refuses forever.
      for (const run of splitBySize(messages, opts.maxRequestBytes ?? 900_000)) {
        try {
          await p.send({
            topic,
            acks: -1,
            compression: opts.compression ?? CompressionTypes.GZIP,
            messages: run.map((m) => ({
              key: m.key,
              value: m.value,
              headers: m.headers ? { ...m.headers } : undefined,
            })),
          });
        } catch (err) {
          throw new LogUnavailableError(`send to ${topic}`, err);
        }
      }
    },
    consumer(copts: ConsumerOptions): LogConsumer {
      let consumer: Consumer | null = null;
      return {
        deliveries$: new Observable<Delivery>((subscriber) => {
          const c = kafka.consumer({
            groupId: copts.groupId,
            allowAutoTopicCreation: false,
            maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 500,
            sessionTimeout: opts.sessionTimeoutMs ?? 10_000,
            heartbeatInterval: 1000,
            rebalanceTimeout: 30_000,
            maxBytesPerPartition: 1024 * 1024,
            partitionAssigners: [CoPartitionedAssigner],
          });
          consumer = c;
          let stopped = false;
          // Every delivery goes through one chain: assignments, batches and idle signals reach
          // the topology one at a time and in order.
          let chain: Promise<void> = Promise.resolve();
          const deliver = (event: SourceEvent) =>
            new Promise<void>((resolve) => {
              if (stopped) return resolve();
              subscriber.next({ event, ack: resolve });
            });
          const serial = (f: () => Promise<void>) => {
            const next = chain.then(f, f);
            chain = next.catch(() => {});
            return next;
          };
          let owned: TopicPartition[] = [];
          let announced = -1;
          let generation = 0;
          let pendingAssignment: TopicPartition[] | null = null;
          const positions = new Map<string, { next: number; high: number }>();

          const announce = () =>
            serial(async () => {
              if (announced === generation || pendingAssignment === null) return;
              const target = pendingAssignment;
              const gen = generation;
              // kafkajs resumes every partition from its committed offset after a rebalance,
              // so the topology must drop and rebuild all of its state from the checkpoints.
              if (owned.length > 0) await deliver({ kind: 'revoked', partitions: owned });
              owned = target;
              positions.clear();
              if (target.length > 0) {
                const committed = await fetchCommitted(await getAdmin(), copts.groupId, target);
                await deliver({
                  kind: 'assigned',
                  partitions: target.map((tp) => ({
                    ...tp,
                    committed: committed.get(`${tp.topic}:${tp.partition}`) ?? null,
                  })),
                });
              }
              announced = gen;
            });

          c.on(c.events.GROUP_JOIN, (e) => {
            const assignment = e.payload.memberAssignment as Record<string, number[]>;
            pendingAssignment = Object.entries(assignment)
              .flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })))
              .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
            generation++;
            void announce();
          });
          // kafkajs calls eachBatch only for batches with records, so "caught up" is inferred: a
          // few fetch rounds came back without a batch, and every partition read so far is at its
          // high watermark. Then the topology hears that time passed, every idleIntervalMs.
          let fetchesSinceBatch = 0;
          c.on(c.events.FETCH, () => {
            fetchesSinceBatch++;
          });
          const idleTimer = setInterval(() => {
            const caughtUp = [...positions.values()].every((p) => p.next >= p.high);
            if (stopped || !caughtUp || fetchesSinceBatch < 2 || announced !== generation) return;
            void serial(() => deliver({ kind: 'idle', partitions: owned, at: clock() }));
          }, opts.idleIntervalMs ?? 1000);

          const start = async () => {
            await c.connect();
            await c.subscribe({ topics: [...copts.topics], fromBeginning: copts.fromBeginning !== false });
            await c.run({
              autoCommit: false,
              eachBatchAutoResolve: false,
              partitionsConsumedConcurrently: 1,
              eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
                await announce();
                if (!isRunning() || isStale() || stopped) return;
                const records: LogRecord[] = batch.messages.map((m) => ({
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: Number(m.offset),
                  key: m.key === null ? null : m.key.toString(),
                  value: m.value ?? Buffer.alloc(0),
                  timestamp: Number(m.timestamp),
                  headers: undefined,
                }));
                if (records.length === 0) return;
                fetchesSinceBatch = 0;
                const high = Number(batch.highWatermark);
                const beat = setInterval(() => void heartbeat().catch(() => {}), 2000);
                try {
                  await serial(() =>
                    deliver({
                      kind: 'batch',
                      topic: batch.topic,
                      partition: batch.partition,
                      records,
                      highWatermark: high,
                    }),
                  );
                } finally {
                  clearInterval(beat);
                }
                const last = records[records.length - 1]!;
                positions.set(`${batch.topic}:${batch.partition}`, { next: last.offset + 1, high });
                // Moves kafkajs's in-memory position (not the committed offset) past the batch.
                resolveOffset(String(last.offset));
              },
            });
          };
          start().catch((err) => subscriber.error(err));
          return () => {
            stopped = true;
            clearInterval(idleTimer);
            void c.disconnect().catch(() => {});
          };
        }),
        async commit(offsets: readonly CommittedOffset[]) {
          if (!consumer || offsets.length === 0) return;
          try {
            await consumer.commitOffsets(
              offsets.map((o) => ({
                topic: o.topic,
                partition: o.partition,
                offset: String(o.offset),
                metadata: o.metadata,
              })),
            );
          } catch (err) {
            throw new LogUnavailableError('commit', err);
          }
        },
      };
    },
    async close() {
      await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
    },
  };
}

async function fetchCommitted(
  admin: Admin,
  groupId: string,
  tps: readonly TopicPartition[],
): Promise<Map<string, CommittedOffset>> {
  const topics = [...new Set(tps.map((t) => t.topic))];
  const res = await admin.fetchOffsets({ groupId, topics });
  const out = new Map<string, CommittedOffset>();
  for (const t of res) {
    for (const p of t.partitions) {
      const offset = Number(p.offset);
      if (offset < 0) continue; // -1: nothing committed yet
      out.set(`${t.topic}:${p.partition}`, {
        topic: t.topic,
        partition: p.partition,
        offset,
        metadata: p.metadata ?? null,
      });
    }
  }
  return out;
}
