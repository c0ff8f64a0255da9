import { z } from 'zod';
import { idSchema, isoUtc } from '../../schemas/common.ts';
import { deadLetterSchema } from '../../schemas/dead-letter.ts';
import type { TopicNames } from '../../schemas/index.ts';
import { BAIL, compileFastParser, type FastParser, UnsupportedSchemaError } from '../codec/fast-decode.ts';
import { describeIssues, registryHeaderLength } from '../codec/session-codec.ts';
import type { LogRecord } from '../log/event-log.ts';
import {
  type ArchivedDeadLetter,
  type ArchivedEvent,
  type ArchiveStore,
  deadLetterId,
  type InsertOutcome,
} from '../stores/archive-store.ts';
import { type ErasureRegistry, keepNotErased } from '../stores/erasure-registry.ts';
import type { Sink, SinkRejection, SinkResult } from './sink.ts';

/** The seeds' micro-batch: 100 documents per insertMany, or what came within half a second. */
export const DEFAULT_ARCHIVE_BATCH = Object.freeze({ size: 100, maxWaitMs: 500 });

/** Dead letters keep at most this much of the refused record's bytes (as the topic does). */
const MAX_RAW_CHARS = 64 * 1024;

export interface ArchiveSinkOptions {
  readonly store: ArchiveStore;
  /** A, B and C are archived as events, the dead-letter topic into its own collection. */
  readonly topics: Pick<TopicNames, 'recommend' | 'paraphrase' | 'selection' | 'deadLetter'>;
  /** Consumer group (default `sentencify-archive`). */
  readonly group?: string;
  readonly name?: string;
  readonly batch?: { readonly size: number; readonly maxWaitMs: number };
  /**
   * Erased users: their events and the dead letters that carry their event, from before the
   * erasure, are dropped, never archived again by a replay (docs/erasure.md).
   */
  readonly registry?: ErasureRegistry;
}

type Decoded<T> = { readonly doc: T } | { readonly reason: string };

function parseJson(rec: LogRecord): { value: unknown } | { reason: string } {
  try {
    return { value: JSON.parse(rec.value.toString('utf8', registryHeaderLength(rec.value))) };
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
}

/**
 * What the archive needs of an event: the envelope (`_id`, the indexed fields, a time). The body is
 * kept as published, valid or not: the stream processor dead-letters events whose body breaks the
 * schema, and the archive is the record of what was published. (Checking the whole A schema here
 * would cost more than the insert.)
 */
const envelopeSchema = z.object({
  type: z.enum(['recommend', 'paraphrase', 'selection']),
  event_id: idSchema,
  user_id: idSchema,
  recommend_session_id: idSchema,
  ts: isoUtc,
});

/** The envelope check compiled from its zod schema; zod decides (and explains) what it cannot vouch for. */
const fastEnvelope: FastParser | null = (() => {
  try {
    return compileFastParser(envelopeSchema);
  } catch (err) {
    if (err instanceof UnsupportedSchemaError) return null;
    throw err;
  }
})();

const originOf = (rec: LogRecord) => ({ topic: rec.topic, partition: rec.partition, offset: rec.offset });

/**
 * An A/B/C record as an archive document: `_id` = event id, the fields the indexes need, and the
 * event exactly as published (fields the schema does not know included). Only the envelope is
 * checked (`envelopeSchema`).
 */
export function archivedEventOf(rec: LogRecord): Decoded<ArchivedEvent> {
  const parsed = parseJson(rec);
  if ('reason' in parsed) return parsed;
  const fast = fastEnvelope ? fastEnvelope(parsed.value) : BAIL;
  let e: z.infer<typeof envelopeSchema>;
  if (fast !== BAIL) e = fast as z.infer<typeof envelopeSchema>;
  else {
    const res = envelopeSchema.safeParse(parsed.value);
    if (!res.success) return { reason: `not an A/B/C event: ${describeIssues(res.error)}` };
    e = res.data;
  }
  return {
    doc: {
      _id: e.event_id,
      type: e.type,
      user_id: e.user_id,
      recommend_session_id: e.recommend_session_id,
      ts: new Date(e.ts),
      origin: originOf(rec),
      event: parsed.value as Record<string, unknown>,
    },
  };
}

/**
 * A dead-letter record as a document. Never refused: what does not parse is kept as an
 * `unreadable` letter with its raw bytes, and the bytes are cut at 64 KiB, so a dead letter cannot
 * itself bounce back to the dead-letter topic and round again.
 */
export function archivedDeadLetterOf(rec: LogRecord): ArchivedDeadLetter {
  const parsed = parseJson(rec);
  const res = 'value' in parsed ? deadLetterSchema.safeParse(parsed.value) : null;
  if (!res?.success) {
    const origin = originOf(rec);
    return {
      _id: deadLetterId({ code: 'unreadable', origin }),
      code: 'unreadable',
      reason: `an unreadable dead letter: ${'reason' in parsed ? parsed.reason : describeIssues(res!.error)}`,
      ts: new Date(rec.timestamp),
      origin,
      event_id: null,
      recommend_session_id: null,
      raw: rec.value.toString('utf8').slice(0, MAX_RAW_CHARS),
    };
  }
  const d = res.data;
  const origin = { topic: d.topic, partition: d.partition, offset: d.offset };
  return {
    _id: deadLetterId({ code: d.code, ...(d.sink ? { sink: d.sink } : {}), origin }),
    code: d.code,
    reason: d.reason,
    ts: new Date(rec.timestamp),
    origin,
    event_id: d.event_id,
    recommend_session_id: d.recommend_session_id,
    ...(d.sink ? { sink: d.sink } : {}),
    ...(d.event ? { event: d.event as unknown as Record<string, unknown> } : {}),
    ...(d.raw !== undefined ? { raw: d.raw.slice(0, MAX_RAW_CHARS) } : {}),
  };
}

/** A batch parsed and checked, ready to insert (never mutated once built). */
interface DecodedArchive {
  readonly rejected: readonly SinkRejection[];
  readonly events: readonly ArchivedEvent[];
  readonly eventRecs: readonly LogRecord[];
  readonly letters: readonly ArchivedDeadLetter[];
  readonly letterRecs: readonly LogRecord[];
}

/** The user a dead letter's event names, if it carries one. */
const letterUser = (d: ArchivedDeadLetter): string | null => {
  const u = (d.event as { user_id?: unknown } | undefined)?.user_id;
  return typeof u === 'string' ? u : null;
};

/**
 * The raw event archive (the seeds' Phase 2 step 1): every A, B and C event into `events`, every
 * dead letter into `dead_letters`, in micro-batches. Idempotent: `_id` is the event id (a dead
 * letter's is its code and origin), so a replay only counts `duplicates`. Records that are not
 * events, or that MongoDB would refuse (over 16 MB, `$`/NUL/`.` in a key), are `rejected` with the
 * reason and the runtime dead-letters them; a store that is away throws a retriable SinkError.
 * `prepare` decodes the next micro-batch while the one before is being inserted (it writes nothing);
 * `apply` without a prepared batch does both.
 *
 * @example
 * const stores = createMongoStores(client, { db: 'sentencify' });
 * const running = runSink(createArchiveSink({ store: stores.archive, topics: DEFAULT_TOPICS }), deps);
 */
export function createArchiveSink(opts: ArchiveSinkOptions): Sink<DecodedArchive> {
  const { store, topics } = opts;
  const eventTopics = new Set([topics.recommend, topics.paraphrase, topics.selection]);
  const decode = (records: readonly LogRecord[]): DecodedArchive => {
    const rejected: SinkRejection[] = [];
    const events: ArchivedEvent[] = [];
    const eventRecs: LogRecord[] = [];
    const letters: ArchivedDeadLetter[] = [];
    const letterRecs: LogRecord[] = [];
    for (const rec of records) {
      if (rec.topic === topics.deadLetter) {
        letters.push(archivedDeadLetterOf(rec));
        letterRecs.push(rec);
      } else if (eventTopics.has(rec.topic)) {
        const d = archivedEventOf(rec);
        if ('reason' in d) rejected.push({ record: rec, reason: d.reason });
        else {
          events.push(d.doc);
          eventRecs.push(rec);
        }
      } else rejected.push({ record: rec, reason: `topic ${rec.topic} is not archived` });
    }
    return { rejected, events, eventRecs, letters, letterRecs };
  };
  /** The erased users' documents left out, then both inserts; what `apply` answers. */
  const write = async (p: DecodedArchive): Promise<SinkResult> => {
    let { events, eventRecs, letters, letterRecs } = p;
    const rejected = [...p.rejected];
    let erased = 0;
    if (opts.registry && (events.length > 0 || letters.length > 0)) {
      const users = new Set<string>(events.map((e) => e.user_id));
      for (const l of letters) if (letterUser(l)) users.add(letterUser(l)!);
      const at = users.size > 0 ? await opts.registry.erasedAt([...users]) : new Map<string, number>();
      if (at.size > 0) {
        const ev = keepNotErased(
          events.map((doc, i) => ({ doc, rec: eventRecs[i]! })),
          at,
          (x) => x.doc.user_id,
          (x) => x.doc.ts.getTime(),
        );
        const dl = keepNotErased(
          letters.map((doc, i) => ({ doc, rec: letterRecs[i]! })),
          at,
          (x) => letterUser(x.doc),
          (x) => Date.parse(String(x.doc.event?.ts)),
        );
        erased = ev.dropped + dl.dropped;
        events = ev.kept.map((x) => x.doc);
        eventRecs = ev.kept.map((x) => x.rec);
        letters = dl.kept.map((x) => x.doc);
        letterRecs = dl.kept.map((x) => x.rec);
      }
    }
    const none: InsertOutcome = { inserted: 0, duplicates: 0, rejected: [] };
    const [ev, dl] = await Promise.all([
      events.length > 0 ? store.insertEvents(events) : none,
      letters.length > 0 ? store.insertDeadLetters(letters) : none,
    ]);
    for (const r of ev.rejected) rejected.push({ record: eventRecs[r.index]!, reason: r.reason });
    for (const r of dl.rejected) rejected.push({ record: letterRecs[r.index]!, reason: r.reason });
    return {
      rejected,
      counts: {
        archived: ev.inserted,
        dead_letters_archived: dl.inserted,
        duplicates: ev.duplicates + dl.duplicates,
        ...(erased > 0 ? { erased } : {}),
      },
    };
  };
  return {
    name: opts.name ?? 'archive',
    group: opts.group ?? 'sentencify-archive',
    topics: [topics.recommend, topics.paraphrase, topics.selection, topics.deadLetter],
    batch: opts.batch ?? DEFAULT_ARCHIVE_BATCH,
    // The runtime calls this for the next micro-batch while the one before is being inserted:
    // decoding (~10 µs a record) then overlaps the insert.
    prepare: decode,
    apply: (records, prepared) => write(prepared ?? decode(records)),
  };
}
