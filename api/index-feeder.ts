import { concatMap, type Subscription } from 'rxjs';
import type { TrainingExample } from '../schemas/index.ts';
import { decodeExample } from '../streams/codec/session-codec.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import type { EventLog, LogRecord } from '../streams/log/event-log.ts';
import { contextPointsFromExamples } from '../streams/sinks/context-points.ts';
import type { VectorIndex } from './vector/vector-index.ts';

export interface IndexFeederDeps {
  readonly log: EventLog;
  readonly index: VectorIndex;
  /** The stream processor's embedder (same model and dimension), so P_vec compares like with like. */
  readonly embedder: Embedder;
  /** Told about each failed I/O call that will be retried (or, for commits, skipped). */
  readonly onRetry?: (what: string, err: unknown, attempt: number) => void;
  /** The consumer itself failed (not one batch: those are retried). */
  readonly onError?: (err: unknown) => void;
  readonly clock?: () => number;
}

export interface IndexFeederOptions {
  /** The H topic (`<ns>.training-examples`). */
  readonly topic: string;
  /**
   * A group of this instance alone: every instance reads all of H from the beginning and holds the
   * whole index. Sharing a group would split H between instances and leave each a partial index.
   */
  readonly groupId: string;
  /**
   * Points upserted per slice; the event loop is yielded between slices, so catching up on a long
   * log does not hold up /recommend (an insert into the IVF index costs ~0.1 ms at 100k × 384).
   */
  readonly sliceSize?: number;
}

export interface IndexFeederStats {
  /** H records read. */
  records: number;
  /** Records that did not decode as H (the stream processor dead-letters them; here they are skipped). */
  undecodable: number;
  upserts: number;
  deletes: number;
  batches: number;
  /** When the feeder first reached the end of H (the consumer's clock), or null. */
  caughtUpAt: number | null;
  /** Per partition of H, the next offset to read. */
  positions: Record<string, number>;
}

export interface IndexFeeder {
  readonly stats: IndexFeederStats;
  /** True once the feeder has read everything H held when it started (first idle delivery). */
  caughtUp(): boolean;
  /** Stops consuming after the batch in flight reached the index. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Keeps an in-process vector index of past contexts up to date from H: decode → embed contexts →
 * `contextPointsFromExamples` → delete/upsert → commit → ack, one batch at a time. The index lives
 * only in this process, so it is rebuilt from the beginning of H at every start; `caughtUp()` is
 * what `/ready` waits for. Upserts by session id make a replayed batch harmless.
 *
 * @example
 * const feeder = startIndexFeeder({ log, index, embedder }, { topic: topics.trainingExamples, groupId });
 * const ready = () => feeder.caughtUp();
 */
export function startIndexFeeder(deps: IndexFeederDeps, opts: IndexFeederOptions): IndexFeeder {
  const clock = deps.clock ?? Date.now;
  const slice = opts.sliceSize ?? 256;
  const stats: IndexFeederStats = {
    records: 0,
    undecodable: 0,
    upserts: 0,
    deletes: 0,
    batches: 0,
    caughtUpAt: null,
    positions: {},
  };
  const consumer = deps.log.consumer({ groupId: opts.groupId, topics: [opts.topic], fromBeginning: true });
  let stopping = false;

  /** Retries with capped backoff until it works or the feeder stops (then the batch is dropped). */
  const io = async <T>(f: () => Promise<T>, what: string): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        if (stopping) throw err;
        deps.onRetry?.(what, err, attempt);
        await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
      }
    }
  };

  const apply = async (records: readonly LogRecord[]) => {
    const examples: TrainingExample[] = [];
    for (const rec of records) {
      const h = decodeExample(rec);
      if ('code' in h) stats.undecodable++;
      else examples.push(h);
    }
    const texts = [...new Set(examples.flatMap((h) => (h.context ? [h.context.text] : [])))];
    const vectors = texts.length > 0 ? await io(() => deps.embedder.embed(texts), 'embed') : [];
    const byText = new Map(texts.map((t, i) => [t, vectors[i]!]));
    const { upserts, deletes } = contextPointsFromExamples(examples, (h) =>
      h.context ? byText.get(h.context.text) : null,
    );
    // Deletes first: a session whose latest revision no longer qualifies leaves the index, and
    // one that qualifies again in this batch is upserted after.
    if (deletes.length > 0) await io(() => deps.index.delete(deletes), 'index delete');
    for (let i = 0; i < upserts.length; i += slice) {
      const part = upserts.slice(i, i + slice);
      await io(() => deps.index.upsert(part), 'index upsert');
      if (i + slice < upserts.length) await yieldLoop();
    }
    stats.upserts += upserts.length;
    stats.deletes += deletes.length;
  };

  let current: Promise<void> = Promise.resolve();
  const sub: Subscription = consumer.deliveries$
    .pipe(
      concatMap((d) => {
        const step = (async () => {
          const ev = d.event;
          if (ev.kind === 'batch' && ev.records.length > 0) {
            await apply(ev.records);
            const last = ev.records[ev.records.length - 1]!;
            const next = last.offset + 1;
            // Only a restart position for this group (an instance rebuilds from the beginning
            // anyway); it also makes the instance's lag visible to Kafka tooling. Best effort.
            try {
              await consumer.commit([
                { topic: ev.topic, partition: ev.partition, offset: next, metadata: null },
              ]);
            } catch (err) {
              deps.onRetry?.('commit (skipped)', err, 1);
            }
            stats.records += ev.records.length;
            stats.batches++;
            stats.positions[String(ev.partition)] = next;
          } else if (ev.kind === 'idle' && stats.caughtUpAt === null) {
            stats.caughtUpAt = clock();
          }
          d.ack();
        })();
        current = step.catch(() => {});
        return step;
      }),
    )
    .subscribe({ error: (err) => (stopping ? undefined : deps.onError?.(err)) });

  return {
    stats,
    caughtUp: () => stats.caughtUpAt !== null,
    async stop() {
      stopping = true;
      await current;
      sub.unsubscribe();
    },
  };
}
