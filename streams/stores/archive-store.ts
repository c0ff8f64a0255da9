import { createHash } from 'node:crypto';
import { BSON } from 'mongodb';
import type { CorporateRow, SessionEventType, TrainingExample } from '../../schemas/index.ts';

/**
 * The MongoDB-shaped ports (raw event archive, training examples, corporate data D) and their
 * in-memory twins. The twins pass the same contract suite as the MongoDB adapters
 * (test/helpers/mongo-contract.ts), so the embedded mode and the unit tests behave like the server.
 */

/** Where a record was read: the log position, which is also what makes a dead letter's `_id`. */
export interface LogOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** One A/B/C event in the `events` collection; `_id` is the event id, `event` the whole event. */
export interface ArchivedEvent {
  readonly _id: string;
  readonly type: SessionEventType;
  readonly user_id: string;
  readonly recommend_session_id: string;
  readonly ts: Date;
  readonly origin: LogOrigin;
  /** The event as it was published (fields the schema does not know included). */
  readonly event: Readonly<Record<string, unknown>>;
}

/** One dead letter in the `dead_letters` collection. */
export interface ArchivedDeadLetter {
  /** `<code>:<sink>:<topic>/<partition>@<offset>` (sink only for `sink_rejected`): a replay finds it again. */
  readonly _id: string;
  readonly code: string;
  readonly reason: string;
  /** When it was dead-lettered (the dead-letter record's log time). */
  readonly ts: Date;
  /** Where the refused record was read. */
  readonly origin: LogOrigin;
  readonly event_id: string | null;
  readonly recommend_session_id: string | null;
  readonly sink?: string;
  readonly event?: Readonly<Record<string, unknown>>;
  readonly raw?: string;
}

/** What one insert of a batch did; `rejected` indexes point into the batch that was passed. */
export interface InsertOutcome {
  readonly inserted: number;
  /** Already there (a replay): ignored. */
  readonly duplicates: number;
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
}

/**
 * The raw event archive: A/B/C in one collection, dead letters in another. Inserts are
 * idempotent (a document whose `_id` is already there counts as a duplicate and changes nothing).
 * A failure that a retry can cure throws (a `SinkError` with `retriable: true` from the adapter).
 */
export interface ArchiveStore {
  insertEvents(docs: readonly ArchivedEvent[]): Promise<InsertOutcome>;
  insertDeadLetters(docs: readonly ArchivedDeadLetter[]): Promise<InsertOutcome>;
  /** A user's events, oldest first (index `{user_id, ts}`). */
  eventsOfUser(userId: string, limit?: number): Promise<ArchivedEvent[]>;
  /** A session's events, oldest first (index `{recommend_session_id, ts}`). */
  eventsOfSession(sessionId: string): Promise<ArchivedEvent[]>;
  /** Dead letters with one code, newest first (index `{code, ts}`). */
  deadLettersByCode(code: string, limit?: number): Promise<ArchivedDeadLetter[]>;
  countEvents(): Promise<number>;
  countDeadLetters(): Promise<number>;
  /**
   * Removes the user's events and the dead letters about them (erasure): those whose event names
   * the user, and those of the user's sessions. A dead letter of undecodable bytes names no user
   * and cannot be found this way (docs/erasure.md).
   */
  eraseUser?(userId: string): Promise<{ events: number; dead_letters: number }>;
}

export interface UpsertOutcome {
  /** Sessions written: new ones and newer revisions of known ones. */
  readonly upserted: number;
  /** Revisions not newer than the stored one (a replay or an older revision): ignored. */
  readonly stale: number;
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
}

/** `training_examples`: the latest revision of every session, `_id` = recommend_session_id. */
export interface ExampleStore {
  /**
   * Writes each example unless the stored one has the same or a newer revision. Several revisions
   * of one session in a batch: the newest wins, the others count as stale.
   */
  upsertLatest(examples: readonly TrainingExample[]): Promise<UpsertOutcome>;
  get(sessionId: string): Promise<TrainingExample | null>;
  count(): Promise<number>;
  /** Removes every training example of the user (erasure); how many. */
  eraseUser?(userId: string): Promise<number>;
}

export interface CorporateInsertOutcome {
  readonly inserted: number;
  /** Rows whose deterministic `_id` was already in the collection (a re-run of the same export). */
  readonly existing: number;
}

/** `raw_corporate_data`: validated D rows, `_id` derived from the row so a re-run adds nothing. */
export interface CorporateStore {
  insertRows(rows: readonly CorporateRow[]): Promise<CorporateInsertOutcome>;
  /** Every row, in pages of `pageSize`, in `_id` order. */
  scan(pageSize?: number): AsyncIterable<CorporateRow[]>;
  count(): Promise<number>;
}

/** The three ports together, as a composition root hands them to the wiring. */
export interface MongoPorts {
  readonly archive: ArchiveStore;
  readonly examples: ExampleStore;
  readonly corporate: CorporateStore;
  /** Creates what the queries need (indexes); idempotent, once at start-up. */
  ensureIndexes(): Promise<void>;
}

// ------------------------------------------------------------------ documents (pure) ----

/** MongoDB's limit on one document's BSON size (`maxBsonObjectSize`). */
export const MAX_BSON_BYTES = 16 * 1024 * 1024;

/**
 * Why MongoDB would refuse `doc`, or null: over 16 MiB of BSON, or a key it cannot store or query
 * (`$`-prefixed — the server takes those for operators —, containing a NUL byte, which BSON keys
 * cannot hold, or containing a `.`, which no query can address). Checked before the write, so the
 * record is dead-lettered with a reason a person can act on instead of failing the whole batch or
 * being retried forever.
 *
 * One walk checks the keys and sums an upper bound of the BSON size (3 bytes per UTF-16 unit, the
 * widest field types); only a document whose bound passes 16 MiB is measured exactly, so the
 * common small document costs one cheap pass, not a second serialisation.
 */
export function documentProblem(doc: Readonly<Record<string, unknown>>): string | null {
  const walk: Walk = { bad: null, trail: [] };
  const bound = boundOf(doc, walk);
  if (walk.bad) {
    const at = walk.trail
      .reverse()
      .reduce((acc, seg) => (acc === '' || seg.startsWith('[') ? acc + seg : `${acc}.${seg}`), '');
    return keyProblem(walk.bad, at);
  }
  if (bound <= MAX_BSON_BYTES) return null;
  let size: number;
  try {
    size = BSON.calculateObjectSize(doc as BSON.Document);
  } catch (err) {
    return `not storable as BSON: ${(err as Error).message}`;
  }
  if (size > MAX_BSON_BYTES)
    return `document is ${size} bytes of BSON, over MongoDB's ${MAX_BSON_BYTES}-byte (16 MB) limit`;
  return null;
}

const NUL = String.fromCharCode(0);

interface Walk {
  /** The first refused key, and the path to it, innermost first, gathered on the way back up. */
  bad: string | null;
  trail: string[];
}

const refusedKey = (k: string) => k.charCodeAt(0) === 36 /* $ */ || k.includes(NUL) || k.includes('.');

function keyProblem(k: string, at: string): string {
  if (k.charCodeAt(0) === 36)
    return `field ${JSON.stringify(at)} starts with "$", which MongoDB refuses in stored keys`;
  if (k.includes(NUL)) return `field "${at.split(NUL).join('\\0')}" contains a NUL byte`;
  // MongoDB 5+ stores dotted names but no query or index can address them, and FerretDB refuses
  // them: refused here alike on every server.
  return `field ${JSON.stringify(at)} contains ".", which no MongoDB query can address`;
}

/** Upper bound of the BSON bytes of a value (without its key); stops at the first refused key. */
function boundOf(v: unknown, walk: Walk): number {
  switch (typeof v) {
    case 'string':
      return 5 + v.length * 3;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object':
      break;
    default:
      return 0;
  }
  if (v === null) return 0;
  if (v instanceof Date) return 8;
  if (v instanceof Uint8Array) return 5 + v.byteLength;
  let n = 5;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      n += 9 + boundOf(v[i], walk);
      if (walk.bad) {
        walk.trail.push(`[${i}]`);
        return n;
      }
    }
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    if (refusedKey(k)) {
      walk.bad = k;
      walk.trail.push(k);
      return n;
    }
    n += 2 + k.length * 3 + boundOf(o[k], walk);
    if (walk.bad) {
      walk.trail.push(k);
      return n;
    }
  }
  return n;
}

/** `_id` of a dead letter: the same refusal of the same record maps to the same document. */
export function deadLetterId(d: { code: string; sink?: string; origin: LogOrigin }): string {
  const o = d.origin;
  return `${d.code}:${d.sink ? `${d.sink}:` : ''}${o.topic}/${o.partition}@${o.offset}`;
}

/** Keeps the newest revision per session; the others are stale before any write. */
export function newestPerSession(examples: readonly TrainingExample[]): {
  keep: { index: number; example: TrainingExample }[];
  stale: number;
} {
  const best = new Map<string, { index: number; example: TrainingExample }>();
  let stale = 0;
  examples.forEach((example, index) => {
    const cur = best.get(example.recommend_session_id);
    if (!cur) best.set(example.recommend_session_id, { index, example });
    else {
      stale += 1;
      if (example.revision > cur.example.revision) best.set(example.recommend_session_id, { index, example });
    }
  });
  return { keep: [...best.values()].sort((a, b) => a.index - b.index), stale };
}

/**
 * A D row's `_id`: a hash of the row's fields in a fixed order, so loading the same export twice
 * (or two overlapping exports) stores each row once. Two rows identical in every field are one row.
 */
export function corporateRowId(row: CorporateRow): string {
  const r = normaliseCorporateRow(row) as Record<string, unknown>;
  const canonical = JSON.stringify(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k]]),
  );
  return `d-${sha256Hex(canonical).slice(0, 32)}`;
}

/**
 * The row as the store keeps it: `ts` as MongoDB's millisecond Date gives it back
 * (`2025-03-14T02:41:07Z` → `2025-03-14T02:41:07.000Z`), so both spellings of one instant are one row.
 */
export function normaliseCorporateRow(row: CorporateRow): CorporateRow {
  return { ...row, ts: new Date(row.ts).toISOString() };
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

// ------------------------------------------------------------------ in-memory twins ----

const byTs = <T extends { ts: Date }>(a: T, b: T) => a.ts.getTime() - b.ts.getTime();

/** Deep copy through BSON, so the twin hands out what the server would (no shared references). */
function bsonCopy<T>(doc: T): T {
  return BSON.deserialize(BSON.serialize(doc as BSON.Document)) as T;
}

function insertInto<T extends { _id: string }>(map: Map<string, T>, docs: readonly T[]): InsertOutcome {
  let inserted = 0;
  let duplicates = 0;
  const rejected: { index: number; reason: string }[] = [];
  docs.forEach((doc, index) => {
    const problem = documentProblem(doc as unknown as Record<string, unknown>);
    if (problem) rejected.push({ index, reason: problem });
    else if (map.has(doc._id)) duplicates += 1;
    else {
      map.set(doc._id, bsonCopy(doc));
      inserted += 1;
    }
  });
  return { inserted, duplicates, rejected };
}

/**
 * The archive in memory (the embedded mode without MONGODB_URL, and unit tests).
 *
 * @example
 * const archive = createMemoryArchiveStore();
 * await archive.insertEvents(docs); // { inserted, duplicates, rejected }
 */
export function createMemoryArchiveStore(): ArchiveStore {
  const events = new Map<string, ArchivedEvent>();
  const dead = new Map<string, ArchivedDeadLetter>();
  return {
    insertEvents: async (docs) => insertInto(events, docs),
    insertDeadLetters: async (docs) => insertInto(dead, docs),
    eventsOfUser: async (userId, limit = 1000) =>
      [...events.values()]
        .filter((e) => e.user_id === userId)
        .sort(byTs)
        .slice(0, limit)
        .map(bsonCopy),
    eventsOfSession: async (sessionId) =>
      [...events.values()]
        .filter((e) => e.recommend_session_id === sessionId)
        .sort(byTs)
        .map(bsonCopy),
    deadLettersByCode: async (code, limit = 1000) =>
      [...dead.values()]
        .filter((d) => d.code === code)
        .sort((a, b) => byTs(b, a))
        .slice(0, limit)
        .map(bsonCopy),
    countEvents: async () => events.size,
    countDeadLetters: async () => dead.size,
    async eraseUser(userId) {
      const sessions = new Set<string>();
      let nEvents = 0;
      for (const [id, e] of events)
        if (e.user_id === userId) {
          sessions.add(e.recommend_session_id);
          events.delete(id);
          nEvents++;
        }
      let nDead = 0;
      for (const [id, d] of dead)
        if (
          (d.event as { user_id?: unknown } | undefined)?.user_id === userId ||
          (d.recommend_session_id !== null && sessions.has(d.recommend_session_id))
        ) {
          dead.delete(id);
          nDead++;
        }
      return { events: nEvents, dead_letters: nDead };
    },
  };
}

/**
 * training_examples in memory, with the same revision guard as the MongoDB adapter.
 *
 * @example
 * const examples = createMemoryExampleStore();
 * await examples.upsertLatest([h]); // { upserted: 1, stale: 0, rejected: [] }
 */
export function createMemoryExampleStore(): ExampleStore {
  const rows = new Map<string, TrainingExample>();
  return {
    async upsertLatest(examples) {
      const { keep, stale: dropped } = newestPerSession(examples);
      let upserted = 0;
      let stale = dropped;
      const rejected: { index: number; reason: string }[] = [];
      for (const { index, example } of keep) {
        const problem = documentProblem(example as unknown as Record<string, unknown>);
        if (problem) {
          rejected.push({ index, reason: problem });
          continue;
        }
        const cur = rows.get(example.recommend_session_id);
        if (cur && cur.revision >= example.revision) stale += 1;
        else {
          rows.set(example.recommend_session_id, structuredClone(example));
          upserted += 1;
        }
      }
      return { upserted, stale, rejected };
    },
    get: async (sessionId) => {
      const h = rows.get(sessionId);
      return h ? structuredClone(h) : null;
    },
    count: async () => rows.size,
    async eraseUser(userId) {
      let n = 0;
      for (const [id, h] of rows)
        if (h.user_id === userId) {
          rows.delete(id);
          n++;
        }
      return n;
    },
  };
}

/**
 * raw_corporate_data in memory.
 *
 * @example
 * const d = createMemoryCorporateStore();
 * await d.insertRows(rows); // a second call with the same rows: { inserted: 0, existing: n }
 */
export function createMemoryCorporateStore(): CorporateStore {
  const rows = new Map<string, CorporateRow>();
  return {
    async insertRows(input) {
      let inserted = 0;
      let existing = 0;
      for (const r of input) {
        const id = corporateRowId(r);
        if (rows.has(id)) existing += 1;
        else {
          rows.set(id, normaliseCorporateRow(r));
          inserted += 1;
        }
      }
      return { inserted, existing };
    },
    async *scan(pageSize = 1000) {
      const ids = [...rows.keys()].sort();
      for (let i = 0; i < ids.length; i += pageSize)
        yield ids.slice(i, i + pageSize).map((id) => structuredClone(rows.get(id)!));
    },
    count: async () => rows.size,
  };
}

/**
 * All three twins: the embedded mode without MONGODB_URL.
 *
 * @example
 * const mongo = env.MONGODB_URL ? createMongoStores(client, opts) : createMemoryMongoPorts();
 */
export function createMemoryMongoPorts(): MongoPorts {
  return {
    archive: createMemoryArchiveStore(),
    examples: createMemoryExampleStore(),
    corporate: createMemoryCorporateStore(),
    ensureIndexes: async () => {},
  };
}
