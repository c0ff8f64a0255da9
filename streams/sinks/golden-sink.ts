import { decodeExample } from '../codec/session-codec.ts';
import type { LogRecord } from '../log/event-log.ts';
import type { GoldenStore } from '../stores/golden-store.ts';
import { type GoldenWrite, goldenWrite, type PriceTable } from './golden-document.ts';
import type { Sink, SinkRejection } from './sink.ts';

export interface GoldenSinkOptions {
  readonly store: GoldenStore;
  /** The training-examples topic (H). */
  readonly topic: string;
  /** Default `sentencify-golden`. */
  readonly group?: string;
  /** Default `golden`. */
  readonly name?: string;
  /** Default 500 records or 200 ms: one bulk per batch. */
  readonly batch?: { readonly size: number; readonly maxWaitMs: number };
  /** USD per million tokens by model, for `cost_usd`. */
  readonly prices?: PriceTable;
  /** Create/update the index template before the first write (default true). */
  readonly ensureTemplate?: boolean;
}

/**
 * The golden-index sink: H → one flattened document per recommend session in
 * `<prefix>YYYY.MM.DD`, at its latest revision. Idempotent: the store writes with external
 * versioning, so a replayed batch or an older revision counts as `stale` and changes nothing.
 * Undecodable H and documents the mapping refuses are returned as `rejected` (dead-lettered with
 * the reason); a store that is away throws a retriable SinkError, so the runtime backs off.
 *
 * Counts: `written`, `stale` (replays, older revisions, and earlier revisions of a session that a
 * later one in the same batch superseded), `rejected`.
 *
 * @example
 * const sink = createGoldenSink({ store: createEsGoldenStore(client), topic: topics.trainingExamples });
 * runSink(sink, { log, deadLetterTopic: topics.deadLetter });
 */
export function createGoldenSink(o: GoldenSinkOptions): Sink {
  let templated = o.ensureTemplate === false;
  return {
    name: o.name ?? 'golden',
    group: o.group ?? 'sentencify-golden',
    topics: [o.topic],
    batch: o.batch ?? { size: 500, maxWaitMs: 200 },
    async apply(records: readonly LogRecord[]) {
      if (!templated) {
        await o.store.ensureTemplate();
        templated = true;
      }
      const rejected: SinkRejection[] = [];
      // Latest revision per session within the batch: the older ones would only come back stale.
      const latest = new Map<string, { write: GoldenWrite; record: LogRecord }>();
      let superseded = 0;
      for (const record of records) {
        const h = decodeExample(record);
        if ('code' in h) {
          rejected.push({ record, reason: `undecodable H (${h.code}): ${h.reason}` });
          continue;
        }
        const write = goldenWrite(h, { prices: o.prices });
        const prev = latest.get(write.id);
        if (prev && prev.write.version >= write.version) {
          superseded++;
          continue;
        }
        if (prev) superseded++;
        latest.set(write.id, { write, record });
      }
      const entries = [...latest.values()];
      const res = await o.store.write(entries.map((e) => e.write));
      for (const r of res.rejected) {
        rejected.push({
          record: entries[r.at]!.record,
          reason: `the golden store refused the document: ${r.reason}`,
        });
      }
      return {
        rejected,
        counts: { written: res.written, stale: res.stale + superseded, rejected: rejected.length },
      };
    },
    async close() {
      await o.store.close();
    },
  };
}
