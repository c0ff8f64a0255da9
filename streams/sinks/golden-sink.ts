import { decodeExample } from '../codec/session-codec.ts';
import type { LogRecord } from '../log/event-log.ts';
import { type ErasureRegistry, exampleStartMs } from '../stores/erasure-registry.ts';
import type { GoldenStore, GoldenWriteResult } from '../stores/golden-store.ts';
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
  /** Parts a batch is written in, each decoded while the previous one is written (default 2). */
  readonly pipeline?: number;
  /** Create/update the index template before the first write (default true). */
  readonly ensureTemplate?: boolean;
  /** Erased users: their H from before the erasure is dropped, never applied (docs/erasure.md). */
  readonly registry?: ErasureRegistry;
}

/** Below this many records a batch is not split: the round trip would cost more than it saves. */
const MIN_PART = 100;

/** FNV-1a of the key: a cheap, stable split of a batch. */
function keyHash(key: string | null): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < (key ?? '').length; i++) h = Math.imul(h ^ key!.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Decodes H into writes, the latest revision per session (older ones would only come back stale). */
function decodePart(
  records: readonly LogRecord[],
  rejected: SinkRejection[],
  prices?: PriceTable,
  erased: ReadonlyMap<string, number> = new Map(),
): { entries: { write: GoldenWrite; record: LogRecord }[]; superseded: number; erased: number } {
  const latest = new Map<string, { write: GoldenWrite; record: LogRecord }>();
  let superseded = 0;
  let dropped = 0;
  for (const record of records) {
    const h = decodeExample(record);
    if ('code' in h) {
      rejected.push({ record, reason: `undecodable H (${h.code}): ${h.reason}` });
      continue;
    }
    const at = erased.get(h.user_id);
    if (at !== undefined && !(exampleStartMs(h) > at)) {
      dropped++;
      continue;
    }
    const write = goldenWrite(h, { prices });
    const prev = latest.get(write.id);
    if (prev && prev.write.version >= write.version) {
      superseded++;
      continue;
    }
    if (prev) superseded++;
    latest.set(write.id, { write, record });
  }
  return { entries: [...latest.values()], superseded, erased: dropped };
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
  const pipeline = Math.max(1, o.pipeline ?? 2);
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
      // The batch goes in `pipeline` parts: the next part is decoded while the previous part's bulk
      // is on the wire, so the sink's CPU overlaps Elasticsearch's. Parts split by message key (H is
      // keyed by user), so every revision of a session is in one part and decided there.
      const n = records.length < 2 * MIN_PART ? 1 : pipeline;
      const byPart: LogRecord[][] = Array.from({ length: n }, () => []);
      for (const r of records) byPart[n === 1 ? 0 : keyHash(r.key) % n]!.push(r);
      // Erased users of the batch, looked up by the message key (H is keyed by user_id) before decoding.
      const erasedUsers = o.registry
        ? await o.registry.erasedAt([...new Set(records.flatMap((r) => (r.key === null ? [] : [r.key])))])
        : new Map<string, number>();
      const parts: {
        entries: { write: GoldenWrite; record: LogRecord }[];
        superseded: number;
        erased: number;
      }[] = [];
      const writes: Promise<GoldenWriteResult>[] = [];
      const rejected: SinkRejection[] = [];
      for (const [k, slice] of byPart.entries()) {
        if (slice.length === 0) continue;
        const part = decodePart(slice, rejected, o.prices, erasedUsers);
        parts.push(part);
        const write = o.store.write(part.entries.map((e) => e.write));
        // Handled below (allSettled); until then a failure must not count as unhandled.
        write.catch(() => {});
        writes.push(write);
        // let the bulk leave before the next part's CPU-bound decoding
        if (k < n - 1) await new Promise((r) => setImmediate(r));
      }
      const settled = await Promise.allSettled(writes);
      const failed = settled.find((x) => x.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      let written = 0;
      let stale = 0;
      const erased = parts.reduce((n, p) => n + p.erased, 0);
      settled.forEach((x, k) => {
        const res = (x as PromiseFulfilledResult<GoldenWriteResult>).value;
        written += res.written;
        stale += res.stale + parts[k]!.superseded;
        for (const r of res.rejected) {
          rejected.push({
            record: parts[k]!.entries[r.at]!.record,
            reason: `the golden store refused the document: ${r.reason}`,
          });
        }
      });
      return {
        rejected,
        counts: { written, stale, rejected: rejected.length, ...(erased > 0 ? { erased } : {}) },
      };
    },
    async close() {
      await o.store.close();
    },
  };
}
