import { merge, Subject } from 'rxjs';
import { publicErrorKind } from '../../common/error-kind.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import { encodeDeadLetter } from '../codec/session-codec.ts';
import type { CommittedOffset, Delivery, EventLog, LogConsumer, LogRecord } from '../log/event-log.ts';
import type { Sink, SinkRejection } from '../sinks/sink.ts';
import { createCommitChain } from './commit.ts';
import { createRetrier, type OnRetry, type Retrier, type RetryPolicy } from './retry.ts';
import { runSteps } from './step-loop.ts';

export interface SinkRuntimeDeps {
  readonly log: EventLog;
  /** Where records a store refused for good go (`<ns>.dead-letter`). */
  readonly deadLetterTopic: string;
  readonly metrics?: MetricsRegistry;
  readonly retry?: RetryPolicy;
  readonly onRetry?: OnRetry;
  /** The sink failed for good (a non-retriable error): it has stopped. */
  readonly onError?: (err: unknown) => void;
  /** Records per delivery (the consumer's batch size). */
  readonly maxBatchSize?: number;
  /**
   * 0 (the default): each apply's offsets are committed right after it, before the next apply.
   * More: applied offsets are committed at most this often (as Kafka Streams'
   * `commit.interval.ms`), in the background, and when the sink is caught up, before a partition
   * moves and at stop; applies then no longer wait for a commit round trip. Either way a commit
   * covers only records whose apply returned.
   */
  readonly commitIntervalMs?: number;
}

export interface SinkStats {
  /** Records applied (and committed past, rejected ones included). */
  records: number;
  applies: number;
  rejected: number;
  /** What the sink counted (`duplicates`, `stale`, …). */
  outcomes: Record<string, number>;
  /** `running`, `retrying` while its store pushes back, `failed` after a fatal error, `stopped`. */
  status: 'running' | 'retrying' | 'failed' | 'stopped';
  lastError: string | null;
  /** `lastError`'s kind (an error code or class, no message): what the open `/ready` shows. */
  lastErrorKind: string | null;
  /** Per `topic/partition`, the next offset to apply. */
  positions: Record<string, number>;
  /** Per `topic/partition`, the end of the log as last seen. */
  ends: Record<string, number>;
  lastApplyMs: number | null;
}

export interface RunningSink {
  readonly name: string;
  readonly group: string;
  readonly stats: SinkStats;
  /** Records behind the end of the sink's topics (as of the last delivery or `refreshLag`). */
  lag(): number;
  /** Asks the log for the current ends, so the lag of a stalled sink keeps growing. */
  refreshLag(): Promise<void>;
  /** True once the sink has applied everything its topics held when it was last caught up. */
  caughtUp(): boolean;
  stop(): Promise<void>;
  kill(): void;
}

const tp = (topic: string, partition: number) => `${topic}/${partition}`;
const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/** A record the sink refused for good, as a dead letter naming the sink. */
function rejectionLetter(sink: string, r: SinkRejection) {
  const d = {
    code: 'sink_rejected',
    sink,
    reason: `${sink}: ${r.reason}`,
    topic: r.record.topic,
    partition: r.record.partition,
    offset: r.record.offset,
    event_id: null,
    recommend_session_id: null,
    raw: r.record.value.toString('utf8'),
  } as Parameters<typeof encodeDeadLetter>[0];
  return encodeDeadLetter(d, r.record.key);
}

/**
 * Runs one sink (the Kafka Connect model): its own consumer group → micro-batch → `apply` with the
 * shared retry policy → records the store refused to the dead-letter topic → commit what was
 * applied → next. A slow or unreachable store stalls only this sink; it resumes from its own
 * committed position. Delivery is at least once; the sink's write model makes that effectively
 * once.
 *
 * @example
 * const running = runSink(createProfileSink({ ... }), { log, deadLetterTopic: topics.deadLetter, metrics });
 * await running.stop();
 */
export function runSink(sink: Sink, deps: SinkRuntimeDeps): RunningSink {
  const stats: SinkStats = {
    records: 0,
    applies: 0,
    rejected: 0,
    outcomes: {},
    status: 'running',
    lastError: null,
    lastErrorKind: null,
    positions: {},
    ends: {},
    lastApplyMs: null,
  };
  const m = deps.metrics;
  const labels = { sink: sink.name };
  const retrier: Retrier = createRetrier({
    policy: deps.retry,
    onRetry: (what, err, attempt) => {
      stats.status = 'retrying';
      stats.lastError = (err as Error)?.message ?? String(err);
      stats.lastErrorKind = publicErrorKind(err);
      m?.inc('sentencify_io_retries_total', 'Failed I/O calls that were retried', {
        what: `${sink.name}: ${what}`,
      });
      deps.onRetry?.(`${sink.name}: ${what}`, err, attempt);
    },
  });
  const consumer: LogConsumer = deps.log.consumer({
    groupId: sink.group,
    topics: sink.topics,
    maxBatchSize: deps.maxBatchSize,
    fromBeginning: sink.fromBeginning ?? true,
  });
  m?.inc('sentencify_sink_records_total', 'Records applied by each sink', labels, 0);
  const size = sink.batch?.size ?? Number.POSITIVE_INFINITY;
  const maxWaitMs = sink.batch?.maxWaitMs ?? 0;
  let buffer: LogRecord[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let idleSeen = false;
  const flushTicks = new Subject<'flush'>();

  // Offsets whose apply returned: committed after each apply or, with an interval, beside it.
  const commitIntervalMs = deps.commitIntervalMs ?? 0;
  const commits = createCommitChain({
    retrier,
    consumer,
    onRetry: deps.onRetry,
    metrics: m,
    group: sink.group,
  });

  const applyChunk = async (chunk: LogRecord[], prepared: unknown) => {
    const t0 = performance.now();
    const res = await retrier.io(() => sink.apply(chunk, prepared), 'apply');
    const rejected = res?.rejected ?? [];
    if (rejected.length > 0) {
      await retrier.io(
        () =>
          deps.log.send(
            deps.deadLetterTopic,
            rejected.map((r) => rejectionLetter(sink.name, r)),
          ),
        'dead-letter rejected records',
      );
    }
    const next = new Map<string, CommittedOffset>();
    for (const r of chunk) {
      const k = tp(r.topic, r.partition);
      const cur = next.get(k);
      if (!cur || r.offset + 1 > cur.offset)
        next.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1, metadata: null });
    }
    // Applies run in record order, so a later chunk's offset for a partition is never lower.
    commits.confirm(next.values());
    if (commitIntervalMs === 0) await commits.commit();
    else if (commits.sinceLastCommitMs() >= commitIntervalMs) void commits.commit().catch(() => {});
    const ms = performance.now() - t0;
    for (const [k, c] of next) stats.positions[k] = c.offset;
    stats.records += chunk.length;
    stats.applies += 1;
    stats.rejected += rejected.length;
    stats.lastApplyMs = ms;
    stats.status = 'running';
    m?.inc('sentencify_sink_records_total', 'Records applied by each sink', labels, chunk.length);
    m?.observe('sentencify_sink_apply_duration_ms', 'Time of one apply, retries included', ms, labels);
    if (rejected.length > 0) {
      m?.inc('sentencify_sink_rejected_total', 'Records a sink dead-lettered', labels, rejected.length);
      m?.inc(
        'sentencify_dead_letters_total',
        'Records sent to the dead-letter topic, by code',
        { code: 'sink_rejected' },
        rejected.length,
      );
    }
    for (const [outcome, n] of Object.entries(res?.counts ?? {})) {
      stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + n;
      m?.inc('sentencify_sink_outcomes_total', 'What sinks counted per record', { ...labels, outcome }, n);
    }
  };

  // One chunk's apply, dead letters and (without an interval) commit may run while the step loop
  // takes the next delivery and prepares the next chunk (`sink.prepare`): at most one chunk in
  // flight plus one prepared. Applies still run one after another in record order, and offsets
  // become committable only after their own apply confirmed: a commit never passes unconfirmed
  // output.
  let inflight: Promise<void> = Promise.resolve();
  let inflightCount = 0;
  /** Waits for the chunk in flight; rethrows its failure (the step fails, as a failed apply did). */
  const settle = () => inflight;
  const startApply = (chunk: LogRecord[], prepared: unknown) => {
    inflightCount += 1;
    const p = applyChunk(chunk, prepared).finally(() => {
      inflightCount -= 1;
    });
    // A failure with no step waiting on it still ends the loop (and is reported once, by it).
    p.catch((err) => flushTicks.error(err));
    inflight = p;
  };

  /** Applies full chunks, or everything when `all` (the wait ran out, or no batching). */
  const flush = async (all: boolean) => {
    while (buffer.length >= size || (all && buffer.length > 0)) {
      const chunk = buffer.slice(0, Math.min(size, buffer.length));
      buffer = buffer.slice(chunk.length);
      // The chunk before may still be writing: give its request a turn to leave, then prepare
      // this one meanwhile (CPU that would otherwise run in series with the store's I/O).
      let prepared: unknown;
      if (sink.prepare) {
        if (inflightCount > 0) await yieldLoop();
        // A prepare that throws only loses the head start: `apply` without it does all the work
        // (and its failures get the retry policy).
        prepared = await Promise.resolve()
          .then(() => sink.prepare?.(chunk))
          .catch(() => undefined);
      }
      await settle();
      startApply(chunk, prepared);
    }
    if (timer && buffer.length === 0) {
      clearTimeout(timer);
      timer = null;
    }
    if (buffer.length > 0 && !timer) {
      timer = setTimeout(() => {
        timer = null;
        flushTicks.next('flush');
      }, maxWaitMs);
    }
  };

  const step = async (input: Delivery | 'flush') => {
    if (input === 'flush') return flush(true);
    const ev = input.event;
    switch (ev.kind) {
      case 'batch':
        idleSeen = false;
        stats.ends[tp(ev.topic, ev.partition)] = ev.highWatermark;
        buffer.push(...ev.records);
        await flush(!sink.batch);
        break;
      case 'revoked': {
        // The chunk in flight commits before the partitions go (its commit may then be refused,
        // which only means a replay from the last good one).
        await settle();
        await commits.commit();
        // Buffered records of a partition that moved are the new owner's to apply (from the last
        // commit); dropping them here loses nothing.
        const gone = new Set(ev.partitions.map((p) => tp(p.topic, p.partition)));
        buffer = buffer.filter((r) => !gone.has(tp(r.topic, r.partition)));
        for (const k of gone) {
          delete stats.positions[k];
          delete stats.ends[k];
        }
        m?.inc('sentencify_rebalances_total', 'Partitions assigned or revoked', {
          group: sink.group,
          kind: 'revoked',
        });
        break;
      }
      case 'assigned':
        for (const p of ev.partitions) {
          const k = tp(p.topic, p.partition);
          if (p.committed) stats.positions[k] = p.committed.offset;
        }
        m?.inc('sentencify_rebalances_total', 'Partitions assigned or revoked', {
          group: sink.group,
          kind: 'assigned',
        });
        break;
      case 'idle':
        idleSeen = true;
        // Caught up: what was applied is committed now rather than at the next interval.
        if (commits.pending() > 0) void commits.commit().catch(() => {});
        for (const p of ev.partitions) {
          const k = tp(p.topic, p.partition);
          if (stats.ends[k] === undefined && stats.positions[k] !== undefined)
            stats.ends[k] = stats.positions[k]!;
        }
        break;
    }
    input.ack();
  };

  const loop = runSteps(merge(consumer.deliveries$, flushTicks), step, (err) => {
    // What was confirmed before the failure is still worth its commit (it is never past it).
    void commits.commit().catch(() => {});
    stats.status = 'failed';
    stats.lastError = (err as Error)?.message ?? String(err);
    stats.lastErrorKind = publicErrorKind(err);
    deps.onError?.(Object.assign(new Error(`sink ${sink.name} failed: ${stats.lastError}`), { cause: err }));
  });

  const lag = () => {
    let n = 0;
    for (const [k, end] of Object.entries(stats.ends)) n += Math.max(0, end - (stats.positions[k] ?? 0));
    return n;
  };
  const stopCollecting = m?.onCollect(() => {
    m.set('sentencify_sink_lag_records', 'Records behind the end of the topics, per sink', lag(), labels);
    m.set(
      'sentencify_sink_up',
      'Whether the sink is applying (1) or retrying or failed (0)',
      stats.status === 'running' ? 1 : 0,
      labels,
    );
  });

  return {
    name: sink.name,
    group: sink.group,
    stats,
    lag,
    async refreshLag() {
      const ends = await deps.log.topicEnds(sink.topics);
      for (const e of ends) {
        const k = tp(e.topic, e.partition);
        if (k in stats.positions || k in stats.ends) stats.ends[k] = Math.max(stats.ends[k] ?? 0, e.offset);
      }
    },
    caughtUp: () => idleSeen && buffer.length === 0 && inflightCount === 0 && lag() === 0,
    async stop() {
      stopCollecting?.();
      if (timer) clearTimeout(timer);
      timer = null;
      // A graceful stop applies what the micro-batch still holds (a kill leaves it to the replay),
      // and commits it while the consumer is still in its group.
      await loop.stop(async () => {
        if (stats.status === 'failed') return;
        if (buffer.length > 0) await flush(true).catch(() => {});
        await settle().catch(() => {});
        await commits.commit().catch(() => {});
      });
      if (timer) clearTimeout(timer);
      stats.status = stats.status === 'failed' ? 'failed' : 'stopped';
      await sink.close?.();
    },
    kill() {
      stopCollecting?.();
      if (timer) clearTimeout(timer);
      timer = null;
      retrier.kill();
      loop.kill();
    },
  };
}
