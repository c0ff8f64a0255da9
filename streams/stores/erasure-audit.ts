import type { Db } from 'mongodb';
import { SinkError } from '../sinks/sink.ts';

/**
 * One audit record per erasure: who asked (the API key's name), when, when it was applied, and
 * how many records each store removed. No personal data: the user is the registry's salted hash,
 * and the request's free-text reason is not kept (it could name the person).
 */
export interface ErasureAudit {
  /** The erasure id (the event id the API answered with). */
  readonly _id: string;
  readonly user_hash: string;
  readonly requested_by: string;
  readonly requested_at: Date;
  /** The first and the last time the erasure role applied it (a retry or replay applies it again). */
  readonly first_applied_at: Date;
  readonly last_applied_at: Date;
  readonly applications: number;
  /** Records removed per store (`profiles`, `events`, `golden`, …), the largest count seen per store. */
  readonly removed: Readonly<Record<string, number>>;
}

export interface ErasureAuditStore {
  /**
   * Records one application of an erasure. Applying the same erasure again (a replay finds
   * nothing left to remove) keeps the first counts: per store the larger count wins.
   */
  record(
    entry: Omit<ErasureAudit, 'first_applied_at' | 'last_applied_at' | 'applications'> & {
      readonly applied_at: Date;
    },
  ): Promise<ErasureAudit>;
  get(id: string): Promise<ErasureAudit | null>;
  list(limit?: number): Promise<ErasureAudit[]>;
}

/** What a further application makes of the stored audit record (pure). */
export function mergeAudit(
  cur: ErasureAudit | null,
  e: Parameters<ErasureAuditStore['record']>[0],
): ErasureAudit {
  const removed: Record<string, number> = { ...(cur?.removed ?? {}) };
  for (const [k, v] of Object.entries(e.removed)) removed[k] = Math.max(removed[k] ?? 0, v);
  return {
    _id: e._id,
    user_hash: e.user_hash,
    requested_by: cur?.requested_by ?? e.requested_by,
    requested_at: cur?.requested_at ?? e.requested_at,
    first_applied_at: cur?.first_applied_at ?? e.applied_at,
    last_applied_at: e.applied_at,
    applications: (cur?.applications ?? 0) + 1,
    removed,
  };
}

/**
 * The audit in memory (embedded mode without MONGODB_URL, tests).
 *
 * @example
 * const audit = createMemoryErasureAuditStore();
 * await audit.record({ _id: 'erasure-1', user_hash, requested_by: 'ops', requested_at, applied_at, removed: { profiles: 1 } });
 */
export function createMemoryErasureAuditStore(): ErasureAuditStore {
  const m = new Map<string, ErasureAudit>();
  return {
    async record(e) {
      const next = mergeAudit(m.get(e._id) ?? null, e);
      m.set(e._id, next);
      return structuredClone(next);
    },
    get: async (id) => {
      const a = m.get(id);
      return a ? structuredClone(a) : null;
    },
    list: async (limit = 100) =>
      [...m.values()]
        .sort((a, b) => b.requested_at.getTime() - a.requested_at.getTime())
        .slice(0, limit)
        .map((a) => structuredClone(a)),
  };
}

/**
 * The audit in MongoDB's `erasure_audit` collection (`_id` = erasure id).
 *
 * @example
 * const audit = createMongoErasureAuditStore(stores.db);
 */
export function createMongoErasureAuditStore(db: Db, opts: { collection?: string } = {}): ErasureAuditStore {
  const coll = db.collection<ErasureAudit>(opts.collection ?? 'erasure_audit');
  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      throw new SinkError('mongo_unavailable', `MongoDB erasure_audit ${what}: ${(err as Error).message}`, {
        retriable: true,
        cause: err,
      });
    }
  };
  return {
    async record(e) {
      const cur = await wrap('findOne', () => coll.findOne({ _id: e._id }));
      const next = mergeAudit(cur, e);
      await wrap('replaceOne', () => coll.replaceOne({ _id: e._id }, next, { upsert: true }));
      return next;
    },
    get: (id) => wrap('findOne', () => coll.findOne({ _id: id })),
    list: (limit = 100) =>
      wrap('find', () => coll.find({}).sort({ requested_at: -1 }).limit(limit).toArray()),
  };
}
