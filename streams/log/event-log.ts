import type { Observable } from 'rxjs';

/**
 * The event-log port, shaped after Kafka so the embedded log and the kafkajs adapter are
 * interchangeable: topics with partitions, keyed messages, offsets, consumer groups with
 * committed offsets (and a metadata string next to each).
 */
export interface LogMessage {
  readonly key: string | null;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LogRecord extends LogMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Append time in ms (the log's clock, not the event time inside the value). */
  readonly timestamp: number;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A committed position: `offset` is the next offset to read. */
export interface CommittedOffset extends TopicPartition {
  readonly offset: number;
  readonly metadata: string | null;
}

export type SourceEvent =
  | {
      readonly kind: 'assigned';
      readonly partitions: readonly (TopicPartition & { committed: CommittedOffset | null })[];
    }
  | { readonly kind: 'revoked'; readonly partitions: readonly TopicPartition[] }
  | {
      readonly kind: 'batch';
      readonly topic: string;
      readonly partition: number;
      readonly records: readonly LogRecord[];
      readonly highWatermark: number;
    }
  /** Every assigned partition is caught up (at `at`, the consumer's clock). */
  | { readonly kind: 'idle'; readonly partitions: readonly TopicPartition[]; readonly at: number };

/**
 * One delivery from a consumer. The consumer delivers nothing more until `ack()` is called: that
 * is the back-pressure, and it also orders commits after the sinks of the batch confirmed.
 */
export interface Delivery {
  readonly event: SourceEvent;
  ack(): void;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly maxBatchSize?: number;
  /** Where to start without a committed offset: the beginning (default) or the end. */
  readonly fromBeginning?: boolean;
}

export interface LogConsumer {
  /** Subscribing joins the group and starts delivering; unsubscribing leaves it. */
  readonly deliveries$: Observable<Delivery>;
  commit(offsets: readonly CommittedOffset[]): Promise<void>;
}

export interface EventLog {
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  send(topic: string, messages: readonly LogMessage[]): Promise<void>;
  consumer(opts: ConsumerOptions): LogConsumer;
  /** The next offset to be written, per partition of each topic (lag = end − committed). */
  topicEnds(topics: readonly string[]): Promise<CommittedOffset[]>;
  close(): Promise<void>;
}

/**
 * Topics that exist with other partition counts than the topology needs: a configuration error
 * that no retry fixes (A, B and C must be co-partitioned).
 */
export class TopicLayoutError extends Error {
  readonly code = 'topic_layout';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TopicLayoutError';
  }
}

/**
 * The log did not take a send or a commit (a broker restarting, a leader moving, a rebalance).
 * kafkajs marks an error non-retriable once its own retries are spent; for the topology a broker
 * that comes back is always worth waiting for, so the adapter says retriable.
 */
export class LogUnavailableError extends Error {
  readonly code = 'log_unavailable';
  readonly retriable = true;
  constructor(what: string, cause: unknown) {
    super(`${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'LogUnavailableError';
  }
}
