import type { LogRecord } from '../streams/log/event-log.ts';
import { decodeExampleFast } from '../streams/sinks/index-sink.ts';
import type { Sink } from '../streams/sinks/sink.ts';
import type { KpiView } from './kpis.ts';

export interface KpiSinkOptions {
  readonly view: KpiView;
  /** H, folded into the view. */
  readonly trainingExamples: string;
  /** The dead-letter topic, counted by code. */
  readonly deadLetter: string;
  /** A group of this process alone: the view lives in its memory, so it is rebuilt at every start. */
  readonly group: string;
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
    topics: [o.trainingExamples, o.deadLetter],
    fromBeginning: true,
    async apply(records) {
      let examples = 0;
      let deadLetters = 0;
      let skipped = 0;
      for (const rec of records) {
        const tp = `${rec.topic}/${rec.partition}`;
        if (rec.offset <= (applied.get(tp) ?? -1)) {
          skipped++;
          continue;
        }
        applied.set(tp, rec.offset);
        if (rec.topic === o.deadLetter) {
          const code = deadLetterCode(rec);
          o.view.applyDeadLetter(code ?? 'unreadable');
          deadLetters++;
          continue;
        }
        const h = decodeExampleFast(rec);
        if ('code' in h) o.view.undecodable();
        else {
          o.view.apply(h);
          examples++;
        }
      }
      return { counts: { examples, dead_letters: deadLetters, redelivered: skipped } };
    },
  };
}
