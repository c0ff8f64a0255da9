import type { VectorIndex } from '../../api/vector/vector-index.ts';
import { type DeadLetter, type TrainingExample, trainingExampleSchema } from '../../schemas/index.ts';
import { BAIL, compileFastParser, type FastParser, UnsupportedSchemaError } from '../codec/fast-decode.ts';
import { decodeExample, registryHeaderLength } from '../codec/session-codec.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import type { LogRecord } from '../log/event-log.ts';
import { type ErasureRegistry, exampleStartMs } from '../stores/erasure-registry.ts';
import { contextPointsFromExamples } from './context-points.ts';
import { embedContexts } from './decode-examples.ts';
import { decodeErasure } from './erasure-sink.ts';
import type { Sink, SinkRejection } from './sink.ts';

export interface IndexSinkOptions {
  readonly index: VectorIndex;
  /** The profile fold's embedder (same model and dimension), so P_vec compares like with like. */
  readonly embedder: Embedder;
  readonly topic: string;
  readonly group: string;
  /**
   * An index that lives only in its process (the in-process one) is rebuilt from the beginning of
   * H at every start, in a group of its own; a shared index (Qdrant) resumes from its group's commit.
   */
  readonly fromBeginning?: boolean;
  /**
   * Points upserted per call; the event loop is yielded between slices, so catching up on a long
   * log does not hold up /recommend in the same process.
   */
  readonly sliceSize?: number;
  /**
   * Records decoded and embedded per part (default 256). A batch goes through in parts, in record
   * order: part k+1 is decoded and embedded while part k's deletes and upserts are in flight, so
   * the sink's CPU overlaps the store's I/O instead of adding to it. Smaller parts overlap more
   * of a batch but cost a request each (measured against the local Qdrant peer: 128 did worse
   * than 256 on batches of 500).
   */
  readonly partSize?: number;
  /** Erased users: their H from before the erasure never becomes a point (docs/erasure.md). */
  readonly registry?: ErasureRegistry;
  /**
   * The erasure topic, for an index that lives only in its process (an API's in-process index,
   * which no erasure role elsewhere can reach): the sink then reads erasures too, records them in
   * the registry and deletes the user's points itself.
   */
  readonly erasureTopic?: string;
}

/**
 * H's zod schema compiled into the fast path (fast-decode.ts, built for A/B/C; it compiles H's
 * constructs too), or null when it meets one it does not know (then zod decides everything).
 */
const fastExample: FastParser | null = (() => {
  try {
    return compileFastParser(trainingExampleSchema);
  } catch (err) {
    if (err instanceof UnsupportedSchemaError) return null;
    throw err;
  }
})();

/**
 * `decodeExample`'s answer, faster: the compiled fast path where it vouches for the value (zod's
 * output, key order included), `decodeExample` itself — zod, with its dead-letter reason —
 * otherwise. Decoding H was about half of this sink's CPU with zod alone.
 * test/unit/streams/sinks/index-sink.unit.test.ts compares the two on H and its breakages.
 *
 * @example
 * const h = decodeExampleFast(record); // a TrainingExample, or a DeadLetter with code and reason
 */
export function decodeExampleFast(rec: LogRecord): TrainingExample | DeadLetter {
  if (fastExample !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rec.value.toString('utf8', registryHeaderLength(rec.value)));
    } catch {
      return decodeExample(rec);
    }
    const v = fastExample(parsed);
    if (v !== BAIL) return v as TrainingExample;
  }
  return decodeExample(rec);
}

/** A batch's H decoded (or why not), in record order, and their contexts' embeddings by text. */
export interface PreparedIndexBatch {
  readonly decoded: readonly (TrainingExample | DeadLetter)[];
  readonly byText: ReadonlyMap<string, ArrayLike<number>>;
}

/** Records decoded and embedded between two turns of the event loop. */
const STEP = 32;

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The nearest-past-contexts index behind P_vec, as a sink of H: high-consistency sessions that
 * ended with a kept option become points (`contextPointsFromExamples`); a session whose latest
 * revision no longer qualifies is deleted. Point id = session id, so replays and revisions
 * upsert the same point.
 *
 * A batch is written in parts of `partSize` records taken in order. Each part's writes (its
 * deletes, then its upserts) join one ordered chain, so the store sees them in record order —
 * the writes of a later revision always land after those of an earlier one, and a replayed batch
 * ends in the same index — while the next part is prepared. `apply` returns (or throws) only
 * once every write it started has settled, so a retry never races a write of the attempt before.
 *
 * @example
 * runSink(createIndexSink({ index, embedder, topic: topics.trainingExamples, group }), deps);
 */
export function createIndexSink(o: IndexSinkOptions): Sink<PreparedIndexBatch> {
  const slice = Math.max(1, o.sliceSize ?? 256);
  const partSize = Math.max(1, o.partSize ?? 256);
  const hRecords = (input: readonly LogRecord[]) =>
    o.erasureTopic ? input.filter((r) => r.topic !== o.erasureTopic) : input;
  return {
    name: 'index',
    group: o.group,
    topics: o.erasureTopic ? [o.topic, o.erasureTopic] : [o.topic],
    fromBeginning: o.fromBeginning ?? true,
    // Decoding and embedding a batch is CPU the runtime runs while the batch before is written;
    // which H the erasures of this batch leave out is decided in `apply`, in record order.
    async prepare(input) {
      const records = hRecords(input);
      const decoded: (TrainingExample | DeadLetter)[] = [];
      const byText = new Map<string, ArrayLike<number>>();
      for (let s = 0; s < records.length; s += STEP) {
        if (s > 0) await yieldLoop();
        const stepHs: TrainingExample[] = [];
        for (let r = s; r < Math.min(records.length, s + STEP); r++) {
          const h = decodeExampleFast(records[r]!);
          decoded.push(h);
          if (!('code' in h)) stepHs.push(h);
        }
        for (const [t, v] of await embedContexts((t) => o.embedder.embed(t), stepHs)) byText.set(t, v);
      }
      return { decoded, byText };
    },
    async apply(input: readonly LogRecord[], prepared?: PreparedIndexBatch) {
      const rejected: SinkRejection[] = [];
      let upserted = 0;
      let deleted = 0;
      let erasedPoints = 0;
      // Only bad erasure records are dead-lettered here; bad H is the profile sink's to report.
      const badErasures: SinkRejection[] = [];
      const records = hRecords(input);
      const ready = prepared && prepared.decoded.length === records.length ? prepared : null;
      if (o.erasureTopic && records.length < input.length) {
        const requests = [];
        for (const r of input)
          if (r.topic === o.erasureTopic) {
            const e = decodeErasure(r);
            if ('problem' in e) badErasures.push({ record: r, reason: e.problem });
            else requests.push(e.erasure);
          }
        await o.registry?.mark(requests.map((e) => ({ userId: e.user_id, erasedAt: Date.parse(e.ts) })));
        for (const e of requests) erasedPoints += (await o.index.deleteByUser?.(e.user_id)) ?? 0;
      }
      // H is keyed by user_id: the erased users of the batch, in one lookup.
      const erased = o.registry
        ? await o.registry.erasedAt([...new Set(records.flatMap((r) => (r.key === null ? [] : [r.key])))])
        : new Map<string, number>();
      let skippedErased = 0;
      // The store's writes, one after another in record order; `failed` stops preparing parts
      // whose writes could not run anyway (the chain skips them after a failure).
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      const enqueue = (write: () => Promise<void>) => {
        chain = chain.then(write);
        chain.catch(() => {
          failed = true;
        });
      };
      try {
        for (let at = 0; at < records.length && !failed; at += partSize) {
          const hs: TrainingExample[] = [];
          const byText = new Map<string, ArrayLike<number>>();
          const end = Math.min(records.length, at + partSize);
          // In steps, yielding between them, so a write in flight gets the turns it needs to
          // leave and to be answered while this part is prepared.
          for (let s = at; s < end; s += STEP) {
            if (s > at && !ready) await yieldLoop();
            const stepHs: TrainingExample[] = [];
            for (let r = s; r < Math.min(end, s + STEP); r++) {
              const h = ready ? ready.decoded[r]! : decodeExampleFast(records[r]!);
              if ('code' in h) {
                rejected.push({
                  record: records[r]!,
                  reason: `not a training example (${h.code}): ${h.reason}`,
                });
              } else {
                const at = erased.get(h.user_id);
                if (at !== undefined && !(exampleStartMs(h) > at)) skippedErased++;
                else stepHs.push(h);
              }
            }
            if (!ready)
              for (const [t, v] of await embedContexts((t) => o.embedder.embed(t), stepHs)) byText.set(t, v);
            hs.push(...stepHs);
          }
          const vectors = ready ? ready.byText : byText;
          const { upserts, deletes } = contextPointsFromExamples(hs, (h) =>
            h.context ? vectors.get(h.context.text) : null,
          );
          upserted += upserts.length;
          deleted += deletes.length;
          if (deletes.length === 0 && upserts.length === 0) continue;
          enqueue(async () => {
            // Deletes first: a session whose latest revision here no longer qualifies leaves the
            // index, and one that qualifies again in a later part is upserted after.
            if (deletes.length > 0) await o.index.delete(deletes);
            for (let i = 0; i < upserts.length; i += slice) {
              if (i > 0) await yieldLoop();
              await o.index.upsert(upserts.slice(i, i + slice));
            }
          });
          // Let the request leave before the next part's CPU-bound decoding and embedding.
          if (at + partSize < records.length && !ready) await yieldLoop();
        }
        await chain;
      } finally {
        // Never return (or throw) with a write still in flight: the retry would race it.
        await chain.catch(() => {});
      }
      return {
        ...(badErasures.length > 0 ? { rejected: badErasures } : {}),
        counts: {
          upserts: upserted,
          deletes: deleted,
          undecodable: rejected.length,
          ...(skippedErased > 0 ? { erased: skippedErased } : {}),
          ...(erasedPoints > 0 ? { erased_points: erasedPoints } : {}),
        },
      };
    },
  };
}
