import type { TrainingExample } from '../schemas/index.ts';
import type { LogRecord } from '../streams/log/event-log.ts';
import { decodeErasure } from '../streams/sinks/erasure-sink.ts';
import { decodeExampleFast } from '../streams/sinks/index-sink.ts';
import type { Sink, SinkRejection } from '../streams/sinks/sink.ts';
import { type ErasureRegistry, exampleStartMs } from '../streams/stores/erasure-registry.ts';
import type { KpiView } from './kpis.ts';

export interface KpiSinkOptions {
  readonly view: KpiView;
  /** H, folded into the view. */
  readonly trainingExamples: string;
  /** The dead-letter topic, counted by code. */
  readonly deadLetter: string;
  /** A group of this process alone: the view lives in its memory, so it is rebuilt at every start. */
  readonly group: string;
  /**
   * The erasure topic: the view lives only in this process, so no erasure role elsewhere can
   * reach it; the sink reads erasures too, records them in the registry and forgets the user.
   */
  readonly erasureTopic?: string;
  /** Erased users: their H from before the erasure is not folded (a rebuild never counts them). */
  readonly registry?: ErasureRegistry;
}

/** A dead letter's code, without decoding the rest of it (null: not a dead letter this knows). */
function deadLetterCode(rec: LogRecord): string | null {
  try {
    const v = JSON.parse(rec.value.toString('utf8')) as { code?: unknown };
    return typeof v.code === 'string' ? v.code : null;
  } catch {
    return null;
  }
}

/**
 * The dashboard's KPI view as a sink of H and of the dead-letter topic, run by the sink runtime in
 * the process that serves `/dashboard` (the API process, the embedded wheel). The view is in
 * memory, so the sink reads both topics from the beginning in a group of its own at every start.
 * Idempotent: H is deduplicated by session and revision in the view, and every record at or before
 * the last offset applied on its partition is skipped, so a redelivery counts no dead letter twice.
 * An H record that does not decode is counted and skipped (the profile sink dead-letters it).
 *
 * @example
 * const view = createKpiView();
 * runSink(createKpiSink({ view, trainingExamples: topics.trainingExamples, deadLetter: topics.deadLetter, group }), deps);
 */
export function createKpiSink(o: KpiSinkOptions): Sink {
  const applied = new Map<string, number>();
  return {
    name: 'kpis',
    group: o.group,
    topics: o.erasureTopic
      ? [o.trainingExamples, o.deadLetter, o.erasureTopic]
      : [o.trainingExamples, o.deadLetter],
    fromBeginning: true,
    async apply(records) {
      let examples = 0;
      let deadLetters = 0;
      let skipped = 0;
      let erasures = 0;
      let skippedErased = 0;
      const rejected: SinkRejection[] = [];
      // Each new record decoded once; H's users are then looked up in the registry in one call
      // (erasures in this batch are added as they come, in record order).
      const fresh: (
        | { kind: 'h'; h: TrainingExample }
        | { kind: 'bad-h' }
        | { kind: 'dead-letter'; code: string }
        | { kind: 'erasure'; rec: LogRecord }
      )[] = [];
      for (const rec of records) {
        const tp = `${rec.topic}/${rec.partition}`;
        if (rec.offset <= (applied.get(tp) ?? -1)) {
          skipped++;
          continue;
        }
        applied.set(tp, rec.offset);
        if (o.erasureTopic !== undefined && rec.topic === o.erasureTopic)
          fresh.push({ kind: 'erasure', rec });
        else if (rec.topic === o.deadLetter)
          fresh.push({ kind: 'dead-letter', code: deadLetterCode(rec) ?? 'unreadable' });
        else {
          const h = decodeExampleFast(rec);
          fresh.push('code' in h ? { kind: 'bad-h' } : { kind: 'h', h });
        }
      }
      const erased = o.registry
        ? await o.registry.erasedAt([...new Set(fresh.flatMap((f) => (f.kind === 'h' ? [f.h.user_id] : [])))])
        : new Map<string, number>();
      for (const f of fresh) {
        switch (f.kind) {
          case 'erasure': {
            const e = decodeErasure(f.rec);
            if ('problem' in e) {
              rejected.push({ record: f.rec, reason: e.problem });
              break;
            }
            const at = Date.parse(e.erasure.ts);
            await o.registry?.mark([{ userId: e.erasure.user_id, erasedAt: at }]);
            erased.set(e.erasure.user_id, Math.max(at, erased.get(e.erasure.user_id) ?? at));
            o.view.eraseUser(e.erasure.user_id);
            erasures++;
            break;
          }
          case 'dead-letter':
            o.view.applyDeadLetter(f.code);
            deadLetters++;
            break;
          case 'bad-h':
            o.view.undecodable();
            break;
          case 'h': {
            const at = erased.get(f.h.user_id);
            if (at !== undefined && !(exampleStartMs(f.h) > at)) skippedErased++;
            else {
              o.view.apply(f.h);
              examples++;
            }
          }
        }
      }
      return {
        counts: {
          examples,
          dead_letters: deadLetters,
          redelivered: skipped,
          erasures,
          skipped_erased: skippedErased,
        },
        rejected,
      };
    },
  };
}
