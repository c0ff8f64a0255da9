import type { TrainingExample } from '../../schemas/index.ts';
import { decodeExample } from '../codec/session-codec.ts';
import type { LogRecord } from '../log/event-log.ts';
import type { ExampleStore } from '../stores/archive-store.ts';
import { dropErased, type ErasureRegistry, exampleStartMs } from '../stores/erasure-registry.ts';
import type { Sink, SinkRejection, SinkResult } from './sink.ts';

export interface ExamplesSinkOptions {
  readonly store: ExampleStore;
  /** The training-example topic H. */
  readonly topic: string;
  /** Consumer group (default `sentencify-training-examples`). */
  readonly group?: string;
  readonly name?: string;
  /** Default: one write per delivery (H is already batched by the processor). */
  readonly batch?: { readonly size: number; readonly maxWaitMs: number };
  /** Erased users: their H from before the erasure is dropped, never applied (docs/erasure.md). */
  readonly registry?: ErasureRegistry;
}

/**
 * `training_examples` (the seeds' Phase 2 step 2): the latest revision of every session, upserted
 * by `recommend_session_id` with a revision guard, so a replay or an older revision arriving late
 * never overwrites a newer one (`stale` counts them). Undecodable H records are `rejected` with
 * the decoder's reason.
 *
 * @example
 * const stores = createMongoStores(client);
 * runSink(createExamplesSink({ store: stores.examples, topic: topics.trainingExamples }), deps);
 */
export function createExamplesSink(opts: ExamplesSinkOptions): Sink {
  const { store } = opts;
  return {
    name: opts.name ?? 'training-examples',
    group: opts.group ?? 'sentencify-training-examples',
    topics: [opts.topic],
    ...(opts.batch ? { batch: opts.batch } : {}),
    async apply(records): Promise<SinkResult> {
      const rejected: SinkRejection[] = [];
      const decoded: { h: TrainingExample; rec: LogRecord }[] = [];
      for (const rec of records) {
        const h = decodeExample(rec);
        if ('code' in h)
          rejected.push({ record: rec, reason: `not a training example (${h.code}): ${h.reason}` });
        else decoded.push({ h, rec });
      }
      const { kept, dropped: erased } = await dropErased(
        opts.registry,
        decoded,
        (x) => x.h.user_id,
        (x) => exampleStartMs(x.h),
      );
      const examples = kept.map((x) => x.h);
      const recs = kept.map((x) => x.rec);
      if (examples.length === 0) return { rejected, ...(erased > 0 ? { counts: { erased } } : {}) };
      const out = await store.upsertLatest(examples);
      for (const r of out.rejected) rejected.push({ record: recs[r.index]!, reason: r.reason });
      return {
        rejected,
        counts: { upserts: out.upserted, stale: out.stale, ...(erased > 0 ? { erased } : {}) },
      };
    },
  };
}
