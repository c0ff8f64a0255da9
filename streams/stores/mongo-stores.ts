import {
  type AnyBulkWriteOperation,
  type BSON,
  type Collection,
  type Db,
  MongoBulkWriteError,
  type MongoClient,
  MongoError,
  type WriteConcernSettings,
} from 'mongodb';
import type { CorporateRow, TrainingExample } from '../../schemas/index.ts';
import { SinkError } from '../sinks/sink.ts';
import {
  type ArchivedDeadLetter,
  type ArchivedEvent,
  type ArchiveStore,
  type CorporateStore,
  corporateRowId,
  documentProblem,
  type ExampleStore,
  type InsertOutcome,
  type MongoPorts,
  newestPerSession,
  type UpsertOutcome,
} from './archive-store.ts';

export const DEFAULT_MONGODB_DB = 'sentencify';

/** Collection names (one place; the README's example queries use them). */
export const MONGO_COLLECTIONS = Object.freeze({
  events: 'events',
  deadLetters: 'dead_letters',
  trainingExamples: 'training_examples',
  corporate: 'raw_corporate_data',
});

export interface MongoStoresOptions {
  /** Database name (default `sentencify`). */
  readonly db?: string;
  /**
   * Write concern of every write (default `{ w: 'majority' }`: a write is confirmed, and its
   * offset committed, only once a majority of the replica set holds it, so a failover does not
   * roll back what the sink already committed past). `{ w: 1 }` trades that for latency.
   */
  readonly writeConcern?: WriteConcernSettings;
  /** Collection names, e.g. a per-test prefix (default `MONGO_COLLECTIONS`). */
  readonly collections?: Partial<typeof MONGO_COLLECTIONS>;
}

/** The ports on MongoDB, and the database they write to (for queries and tests). */
export interface MongoStores extends MongoPorts {
  readonly db: Db;
}

/** Parses MONGODB_WRITE_CONCERN (`majority`, `1`, `0`, a tag set name, optional `,j`) for a root. */
export function parseWriteConcern(raw: string | undefined): WriteConcernSettings {
  const s = raw?.trim();
  if (!s) return { w: 'majority' };
  const [w, ...flags] = s.split(',').map((x) => x.trim());
  const journal = flags.includes('j') || flags.includes('journal');
  const wv = (/^\d+$/.test(w!) ? Number(w) : w!) as WriteConcernSettings['w'];
  return journal ? { w: wv, journal: true } : { w: wv };
}

// Per-document codes a retry can cure (the whole batch is retried): the primary stepped down or
// moved, the node is shutting down or recovering, a time limit ran out, a write concern could not
// be met yet.
const RETRIABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  63, // StaleShardVersion
  150, // StaleEpoch
  13388, // StaleConfig
  133, // FailedToSatisfyReadPreference
  112, // WriteConflict
  16500, // Atlas: too many requests
]);
// Codes no retry can cure, for the whole operation: stop the sink and say so.
const FATAL_CODES = new Set([
  13, // Unauthorized
  18, // AuthenticationFailed
  8000, // Atlas: AtlasError (bad user / permissions)
  26, // NamespaceNotFound
  73, // InvalidNamespace
]);

/**
 * Maps a whole-operation failure to a SinkError. Retriable unless it is a known dead end: a network
 * error, no server to select, a primary that stepped down, a time limit — anything else may pass
 * once the server is back, so the runtime backs off and tries again rather than stopping the sink.
 */
function operationError(what: string, err: unknown): SinkError {
  const code = err instanceof MongoError && typeof err.code === 'number' ? err.code : undefined;
  const fatal =
    code !== undefined &&
    FATAL_CODES.has(code) &&
    !(err instanceof MongoError && err.hasErrorLabel('RetryableWriteError'));
  return new SinkError(
    fatal ? 'mongo_fatal' : 'mongo_unavailable',
    `MongoDB ${what}: ${(err as Error)?.message ?? String(err)}`,
    { retriable: !fatal, cause: err },
  );
}

interface PerDocError {
  readonly index: number;
  readonly code: number;
  readonly errmsg: string;
}

function writeErrorsOf(err: MongoBulkWriteError): PerDocError[] {
  const raw = err.writeErrors;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.map((w) => ({ index: w.index, code: w.code, errmsg: w.errmsg ?? w.message ?? 'write error' }));
}

/**
 * The unique index an E11000 names (`… index: _id_ dup key: …` on MongoDB and the local server),
 * or null when the message names none (then the read-back decides).
 */
function duplicateIndex(errmsg: string): string | null {
  return /\bindex: (\S+)/.exec(errmsg)?.[1] ?? null;
}

/** A duplicate key on a unique index other than `_id`: a conflict with another document, no replay. */
const otherIndexDuplicate = (e: PerDocError) => {
  if (e.code !== 11000) return false;
  const idx = duplicateIndex(e.errmsg);
  return idx !== null && idx !== '_id_';
};

/** Rounds of re-sending what a server silently skipped before giving up (retriably). */
const MAX_ROUNDS = 3;

function bulkFailure(what: string, err: unknown): PerDocError[] {
  if (!(err instanceof MongoBulkWriteError)) throw operationError(what, err);
  const errors = writeErrorsOf(err);
  // A write-concern error rides on the result when per-document errors were thrown first.
  const wce = (err.result as { getWriteConcernError?: () => unknown } | undefined)?.getWriteConcernError?.();
  if (wce || errors.length === 0 || errors.some((e) => RETRIABLE_CODES.has(e.code)))
    throw operationError(what, err);
  return errors;
}

/**
 * insertMany(ordered: false) and what became of each document. A duplicate key on `_id` is a
 * replay (the event is already archived) and counts as a duplicate; a duplicate on any other
 * unique index (a collection someone gave one) is a conflict with another document and is
 * rejected, and an E11000 that names no index counts as a duplicate only if a document with that
 * `_id` is there. A retriable per-document error (or a write-concern error) throws, so the
 * runtime retries the batch (what did land then counts as duplicates); any other per-document
 * error is a rejection with the server's reason.
 *
 * After a partial failure the outcome of the documents without an error is read back rather than
 * trusted: some MongoDB-compatible servers get `insertedCount` wrong, or stop at the first error
 * of an unordered batch; what is missing is sent again.
 */
async function insertDocs<T extends { _id: string }>(
  coll: Collection<T>,
  docs: readonly T[],
  what: string,
): Promise<InsertOutcome> {
  const rejected: { index: number; reason: string }[] = [];
  let pending: number[] = [];
  docs.forEach((d, i) => {
    const problem = documentProblem(d as unknown as Record<string, unknown>);
    if (problem) rejected.push({ index: i, reason: problem });
    else pending.push(i);
  });
  let inserted = 0;
  let duplicates = 0;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS)
      throw new SinkError(
        'mongo_incomplete',
        `MongoDB ${what}: ${pending.length} documents neither inserted nor refused`,
        {
          retriable: true,
        },
      );
    const batch = pending.map((i) => docs[i]!);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the driver's OptionalUnlessRequiredId typing
      await coll.insertMany(batch as any[], { ordered: false });
      inserted += batch.length;
      pending = [];
    } catch (err) {
      const errors = bulkFailure(`${what} insertMany`, err);
      const failed = new Map(errors.map((e) => [e.index, e]));
      const unsure = batch
        .map((d, j) => ({ d, j }))
        .filter(({ j }) => {
          const e = failed.get(j);
          return !e || (e.code === 11000 && duplicateIndex(e.errmsg) === null);
        });
      const present = new Set<string>();
      if (unsure.length > 0) {
        const ids = unsure.map(({ d }) => d._id);
        const found = await readOrThrow(`${what} find`, () =>
          // biome-ignore lint/suspicious/noExplicitAny: _id filter on a generic collection
          coll.find({ _id: { $in: ids } } as any, { projection: { _id: 1 } }).toArray(),
        );
        for (const f of found) present.add(String(f._id));
      }
      const next: number[] = [];
      batch.forEach((d, j) => {
        const e = failed.get(j);
        const idx = e?.code === 11000 ? duplicateIndex(e.errmsg) : undefined;
        if (idx === '_id_' || (idx === null && present.has(d._id))) duplicates += 1;
        else if (e)
          rejected.push({ index: pending[j]!, reason: `MongoDB refused it (code ${e.code}): ${e.errmsg}` });
        else if (present.has(d._id)) inserted += 1;
        else next.push(pending[j]!);
      });
      pending = next;
    }
  }
  rejected.sort((a, b) => a.index - b.index);
  return { inserted, duplicates, rejected };
}

async function readOrThrow<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw operationError(what, err);
  }
}

interface StoredExample {
  _id: string;
  revision: number;
  user_id: string;
  ts: Date;
  outcome: string;
  funnel: string;
  example: TrainingExample;
}

type StoredCorporateRow = Omit<CorporateRow, 'ts'> & { _id: string; ts: Date };

/**
 * The archive, training_examples and raw_corporate_data on one MongoDB database (any server that
 * speaks the protocol: MongoDB 5+, Atlas, the FerretDB of `npm run services:up`).
 *
 * @example
 * const client = new MongoClient(env.MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
 * const stores = createMongoStores(client, { db: 'sentencify', writeConcern: { w: 'majority' } });
 * await stores.ensureIndexes();
 * const sink = createArchiveSink({ store: stores.archive, topics: DEFAULT_TOPICS });
 */
export function createMongoStores(client: MongoClient, opts: MongoStoresOptions = {}): MongoStores {
  const names = { ...MONGO_COLLECTIONS, ...opts.collections };
  const db = client.db(opts.db ?? DEFAULT_MONGODB_DB, {
    writeConcern: opts.writeConcern ?? { w: 'majority' },
  });
  const events = db.collection<ArchivedEvent>(names.events);
  const dead = db.collection<ArchivedDeadLetter>(names.deadLetters);
  const examples = db.collection<StoredExample>(names.trainingExamples);
  const corporate = db.collection<StoredCorporateRow>(names.corporate);

  const read = readOrThrow;

  const archive: ArchiveStore = {
    insertEvents: (docs) => insertDocs(events, docs, names.events),
    insertDeadLetters: (docs) => insertDocs(dead, docs, names.deadLetters),
    eventsOfUser: (userId, limit = 1000) =>
      read('find', () =>
        events.find({ user_id: userId }).sort({ ts: 1, _id: 1 }).limit(limit).toArray(),
      ) as Promise<ArchivedEvent[]>,
    eventsOfSession: (sessionId) =>
      read('find', () =>
        events.find({ recommend_session_id: sessionId }).sort({ ts: 1, _id: 1 }).toArray(),
      ) as Promise<ArchivedEvent[]>,
    deadLettersByCode: (code, limit = 1000) =>
      read('find', () => dead.find({ code }).sort({ ts: -1, _id: 1 }).limit(limit).toArray()) as Promise<
        ArchivedDeadLetter[]
      >,
    countEvents: () => read('count', () => events.countDocuments()),
    countDeadLetters: () => read('count', () => dead.countDocuments()),
    async eraseUser(userId) {
      // The sessions first, for the dead letters that carry only a session id.
      const sessions = (await read('distinct', () =>
        events.distinct('recommend_session_id', { user_id: userId }),
      )) as string[];
      const ev = await read('deleteMany', () => events.deleteMany({ user_id: userId }));
      const byUser = await read('deleteMany', () => dead.deleteMany({ 'event.user_id': userId }));
      let bySession = 0;
      for (let i = 0; i < sessions.length; i += 500) {
        const res = await read('deleteMany', () =>
          dead.deleteMany({ recommend_session_id: { $in: sessions.slice(i, i + 500) } }),
        );
        bySession += res.deletedCount;
      }
      return { events: ev.deletedCount, dead_letters: byUser.deletedCount + bySession };
    },
  };

  const exampleStore: ExampleStore = {
    async upsertLatest(input): Promise<UpsertOutcome> {
      const { keep, stale: dropped } = newestPerSession(input);
      const rejected: { index: number; reason: string }[] = [];
      let pending: { index: number; h: TrainingExample; doc: Omit<StoredExample, '_id'> }[] = [];
      for (const { index, example: h } of keep) {
        const doc = {
          revision: h.revision,
          user_id: h.user_id,
          ts: new Date(h.ts),
          outcome: h.outcome,
          funnel: h.funnel,
          example: h,
        };
        const problem = documentProblem({ _id: h.recommend_session_id, ...doc });
        if (problem) rejected.push({ index, reason: problem });
        else pending.push({ index, h, doc });
      }
      let upserted = 0;
      let stale = dropped;
      const what = `${names.trainingExamples} bulkWrite`;
      for (let round = 0; pending.length > 0; round++) {
        if (round === MAX_ROUNDS)
          throw new SinkError(
            'mongo_incomplete',
            `MongoDB ${what}: ${pending.length} examples neither written nor stale`,
            {
              retriable: true,
            },
          );
        // Matches only an older revision; when the same or a newer one is there, the upsert's
        // insert collides on _id (E11000): that is the "stale" answer, not an error. (Not $max on
        // revision plus $set: that would write an older body over a newer one.)
        const ops: AnyBulkWriteOperation<StoredExample>[] = pending.map((p) => ({
          replaceOne: {
            filter: { _id: p.h.recommend_session_id, revision: { $lt: p.h.revision } },
            replacement: p.doc as StoredExample,
            upsert: true,
          },
        }));
        try {
          await examples.bulkWrite(ops, { ordered: false });
          upserted += pending.length;
          pending = [];
        } catch (err) {
          const errors = bulkFailure(what, err);
          const failed = new Map(errors.map((e) => [e.index, e]));
          // Read back every session of the batch: FerretDB 1.x stops an unordered bulk at its
          // first failed upsert, so "no error" does not mean "written" there.
          const ids = pending.map((p) => p.h.recommend_session_id);
          const found = await readOrThrow(`${names.trainingExamples} find`, () =>
            examples.find({ _id: { $in: ids } }, { projection: { revision: 1 } }).toArray(),
          );
          const stored = new Map(found.map((f) => [f._id, f.revision]));
          const next: typeof pending = [];
          pending.forEach((p, j) => {
            const e = failed.get(j);
            const rev = stored.get(p.h.recommend_session_id);
            // E11000 on _id is the guard's "stale" answer; on another unique index it is a conflict.
            if (e && (e.code !== 11000 || otherIndexDuplicate(e)))
              rejected.push({ index: p.index, reason: `MongoDB refused it (code ${e.code}): ${e.errmsg}` });
            else if (rev !== undefined && rev > p.h.revision) stale += 1;
            else if (rev === p.h.revision) {
              if (e) stale += 1;
              else upserted += 1;
            } else next.push(p);
          });
          pending = next;
        }
      }
      rejected.sort((a, b) => a.index - b.index);
      return { upserted, stale, rejected };
    },
    async get(sessionId) {
      const doc = await read('findOne', () => examples.findOne({ _id: sessionId }));
      return doc ? doc.example : null;
    },
    count: () => read('count', () => examples.countDocuments()),
    async eraseUser(userId) {
      const res = await read('deleteMany', () => examples.deleteMany({ user_id: userId }));
      return res.deletedCount;
    },
  };

  const corporateStore: CorporateStore = {
    async insertRows(rows) {
      const docs = rows.map((r) => ({ ...r, _id: corporateRowId(r), ts: new Date(r.ts) }));
      let inserted = 0;
      let existing = 0;
      // Pages keep each request well under the server's message limit.
      for (let i = 0; i < docs.length; i += 1000) {
        const out = await insertDocs(corporate, docs.slice(i, i + 1000), names.corporate);
        if (out.rejected.length > 0) throw new Error(`${names.corporate}: ${out.rejected[0]!.reason}`);
        inserted += out.inserted;
        existing += out.duplicates;
      }
      return { inserted, existing };
    },
    async *scan(pageSize = 1000) {
      let after: string | null = null;
      for (;;) {
        const filter: Record<string, unknown> = after === null ? {} : { _id: { $gt: after } };
        const page: StoredCorporateRow[] = await read('find', () =>
          corporate.find(filter).sort({ _id: 1 }).limit(pageSize).toArray(),
        );
        if (page.length === 0) return;
        after = page[page.length - 1]!._id;
        yield page.map(({ _id, ts, ...rest }) => ({ ...rest, ts: ts.toISOString() }) as CorporateRow);
        if (page.length < pageSize) return;
      }
    },
    count: () => read('count', () => corporate.countDocuments()),
  };

  return {
    archive,
    examples: exampleStore,
    corporate: corporateStore,
    db,
    async ensureIndexes() {
      const specs: [Collection<BSON.Document>, { key: Record<string, 1>; name: string }[]][] = [
        [
          events as unknown as Collection<BSON.Document>,
          [
            { key: { user_id: 1, ts: 1 }, name: 'user_ts' },
            { key: { recommend_session_id: 1, ts: 1 }, name: 'session_ts' },
          ],
        ],
        [
          dead as unknown as Collection<BSON.Document>,
          [
            { key: { code: 1, ts: 1 }, name: 'code_ts' },
            // erasure: the dead letters of a user and of the user's sessions
            { key: { 'event.user_id': 1 }, name: 'event_user' },
            { key: { recommend_session_id: 1 }, name: 'session' },
          ],
        ],
        [examples as unknown as Collection<BSON.Document>, [{ key: { user_id: 1, ts: 1 }, name: 'user_ts' }]],
        [
          corporate as unknown as Collection<BSON.Document>,
          [{ key: { user_id: 1, ts: 1 }, name: 'user_ts' }],
        ],
      ];
      for (const [coll, wanted] of specs) {
        // Only the missing ones: FerretDB 1.24 drops the connection (a server panic) when asked to
        // create an index that already exists.
        const have = await read('listIndexes', async () => {
          try {
            return new Set((await coll.listIndexes().toArray()).map((i) => i.name as string));
          } catch (err) {
            if (err instanceof MongoError && err.code === 26) return new Set<string>(); // no collection yet
            throw err;
          }
        });
        const missing = wanted.filter((w) => !have.has(w.name));
        if (missing.length > 0) await read('createIndexes', () => coll.createIndexes(missing));
      }
    },
  };
}
