import type { LogRecord } from '../log/event-log.ts';

/**
 * The sink contract (the Kafka Connect model). A sink is a small object — a name, its own consumer
 * group, the topics it reads and `apply(records)` — that holds only its write model; the sink
 * runtime (`runSink`) does everything else: reading, micro-batching, retries with backoff,
 * dead-lettering what the store refused, committing only after `apply` confirmed, lag metrics,
 * stop and kill. Each sink has its own group and offsets, so a slow or unreachable store stalls
 * only its own sink, which later catches up from its own position.
 *
 * `apply` must be idempotent: the runtime delivers at least once (after a crash, a rebalance or a
 * failed commit, records are applied again), so a replayed batch must leave the store as it was
 * (upsert by id, external version = revision, last applied offset, ignore duplicate keys).
 *
 * Failures:
 * - throw a `SinkError` with `retriable: true` (or any error that is not a `SinkError`) when the
 *   store is away or pushes back: the runtime backs off and applies the same records again;
 * - throw a `SinkError` with `retriable: false` when no retry can help (misconfiguration, a
 *   collection with the wrong dimension): the sink stops and reports it;
 * - return the records the store refused for good in `rejected` (a document over the size limit,
 *   a mapping conflict): they go to the dead-letter topic with the reason, and are committed past.
 *
 * @example
 * const archive: Sink = {
 *   name: 'archive',
 *   group: 'sentencify-archive',
 *   topics: [topics.recommend, topics.paraphrase, topics.selection],
 *   batch: { size: 100, maxWaitMs: 500 },
 *   apply: async (records) => ({ rejected: await store.insertMany(records) }),
 * };
 */
export interface Sink<P = unknown> {
  /** Short and stable: it labels metrics, logs and `/ready` details (`profiles`, `archive`, …). */
  readonly name: string;
  /** The sink's own consumer group. */
  readonly group: string;
  readonly topics: readonly string[];
  /**
   * Collect up to `size` records, or what came within `maxWaitMs` of the first one, across
   * deliveries, before one `apply` (the seeds' micro-batch of 100). Default: one `apply` per
   * delivery (a delivery holds one partition's batch).
   */
  readonly batch?: { readonly size: number; readonly maxWaitMs: number };
  /**
   * Where to start without a committed offset (default true: the beginning). A sink whose store
   * lives only in its process (the in-process vector index) reads from the beginning in a group
   * of its own at every start.
   */
  readonly fromBeginning?: boolean;
  /**
   * Optional: the CPU half of `apply` (decoding, checks, building documents), with no writes. The
   * runtime calls it for the next micro-batch while the previous one's `apply` is still writing,
   * then passes its result to that batch's `apply` (the same object on every retry: do not mutate
   * it). A prepared batch may be dropped unapplied (kill, revocation), and `apply` must still work
   * without one (`prepared` undefined: a `prepare` that threw, or a direct call).
   */
  prepare?(records: readonly LogRecord[]): P | Promise<P>;
  apply(records: readonly LogRecord[], prepared?: P): Promise<SinkResult | undefined>;
  /** Called once after the sink has stopped (not after kill). */
  close?(): Promise<void>;
}

/** A record the store refused for good; it is dead-lettered with `code: 'sink_rejected'`. */
export interface SinkRejection {
  readonly record: LogRecord;
  /** Why, in words a person can act on ("document over 16 MB", "mapping conflict on field x"). */
  readonly reason: string;
}

export interface SinkResult {
  readonly rejected?: readonly SinkRejection[];
  /**
   * Outcomes worth counting (`duplicates`, `stale_revisions`, `upserts`, …): added to
   * `sentencify_sink_outcomes_total{sink, outcome}` and to the sink's stats.
   */
  readonly counts?: Readonly<Record<string, number>>;
}

/**
 * A typed sink failure: `retriable` decides whether the runtime backs off and tries again or stops
 * the sink — never the message text. Adapters map their client's errors to it (a connection
 * refused, a 429 or a 503 are retriable; a 400 for a bad collection definition is not).
 */
export class SinkError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, opts: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'SinkError';
    this.code = code;
    this.retriable = opts.retriable;
  }
}

export { isRetriable } from '../runtime/retry.ts';
