import type { MetricsRegistry } from '../../common/metrics.ts';
import { type UserErasure, userErasureSchema } from '../../schemas/index.ts';
import { describeIssues, registryHeaderLength } from '../codec/session-codec.ts';
import type { LogRecord } from '../log/event-log.ts';
import type { ErasureAudit, ErasureAuditStore } from '../stores/erasure-audit.ts';
import { type ErasureRegistry, userHash } from '../stores/erasure-registry.ts';
import type { Sink, SinkRejection, SinkResult } from './sink.ts';

/**
 * One store an erasure removes the user from. `erase` answers how many records went, or a count
 * per collection (`{ events, dead_letters }`); it must be idempotent (a second call removes 0).
 */
export interface ErasureTarget {
  readonly name: string;
  erase(userId: string): Promise<number | Readonly<Record<string, number>>>;
}

export interface ErasureSinkOptions {
  readonly registry: ErasureRegistry;
  readonly audit: ErasureAuditStore;
  /** The stores of this process the erasure applies to, in order. */
  readonly targets: readonly ErasureTarget[];
  /** The salt of the user hash (the registry's), so the audit names the user the same way. */
  readonly salt: string;
  /** The erasure topic. */
  readonly topic: string;
  readonly group: string;
  readonly metrics?: MetricsRegistry;
  /** Told of every audit record written (the root logs it). */
  readonly onAudit?: (a: ErasureAudit) => void;
  /** Applied time (default Date.now). */
  readonly clock?: () => number;
}

/** An erasure record as the request, or why it is not one. */
export function decodeErasure(rec: LogRecord): { erasure: UserErasure } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(rec.value.toString('utf8', registryHeaderLength(rec.value)));
  } catch (err) {
    return { problem: `not JSON: ${(err as Error).message}` };
  }
  const res = userErasureSchema.safeParse(value);
  return res.success
    ? { erasure: res.data }
    : { problem: `not a user_erasure: ${describeIssues(res.error)}` };
}

/**
 * Whether a log record is about the user: an A/B/C event or an H of theirs (`user_id`), or a dead
 * letter carrying their event. A cheap byte search first; JSON only for the records that name them.
 */
export function recordOfUser(userId: string): (r: LogRecord) => boolean {
  const needle = Buffer.from(JSON.stringify(userId));
  return (r) => {
    if (!r.value.includes(needle)) return false;
    try {
      const v = JSON.parse(r.value.toString('utf8', registryHeaderLength(r.value))) as {
        user_id?: unknown;
        event?: { user_id?: unknown };
      };
      return v.user_id === userId || v.event?.user_id === userId;
    } catch {
      return false;
    }
  };
}

/**
 * The erasure role: reads `<ns>.erasure` and, for each request, in this order:
 * 1. records the user's salted hash and the erasure time in the registry (before anything is
 *    deleted, so a replay racing the deletes is already dropped by the join and the sinks);
 * 2. removes the user from every target store (profile, cluster mapping, archive, training
 *    examples, golden documents, vector index, the embedded log's records);
 * 3. writes the audit record (who, when, counts per store; no user id) and counts the erasure.
 * Idempotent: a replayed request marks the same hash, removes nothing more, and the audit keeps
 * the first counts. A store that is away throws (retriable): the whole request is applied again.
 *
 * @example
 * runSink(createErasureSink({ registry, audit, targets, salt: 'sentencify', topic: topics.erasure, group }), deps);
 */
export function createErasureSink(o: ErasureSinkOptions): Sink {
  const clock = o.clock ?? Date.now;
  const m = o.metrics;
  m?.inc('sentencify_erasures_total', 'User erasures applied (a replayed request counts again)', {}, 0);
  return {
    name: 'erasure',
    group: o.group,
    topics: [o.topic],
    async apply(records): Promise<SinkResult> {
      const rejected: SinkRejection[] = [];
      const requests: UserErasure[] = [];
      for (const rec of records) {
        const e = decodeErasure(rec);
        if ('problem' in e) rejected.push({ record: rec, reason: e.problem });
        else requests.push(e.erasure);
      }
      if (requests.length === 0) return { rejected };
      await o.registry.mark(requests.map((e) => ({ userId: e.user_id, erasedAt: Date.parse(e.ts) })));
      let removedTotal = 0;
      for (const e of requests) {
        const removed: Record<string, number> = {};
        for (const t of o.targets) {
          const n = await t.erase(e.user_id);
          if (typeof n === 'number') removed[t.name] = n;
          else for (const [k, v] of Object.entries(n)) removed[`${t.name}.${k}`] = v;
        }
        const audit = await o.audit.record({
          _id: e.event_id,
          user_hash: userHash(o.salt, e.user_id),
          requested_by: e.requested_by,
          requested_at: new Date(e.ts),
          applied_at: new Date(clock()),
          removed,
        });
        o.onAudit?.(audit);
        m?.inc('sentencify_erasures_total', 'User erasures applied (a replayed request counts again)');
        for (const [store, n] of Object.entries(removed)) {
          removedTotal += n;
          m?.inc('sentencify_erased_records_total', 'Records removed by erasures, per store', { store }, n);
        }
      }
      return { rejected, counts: { erasures: requests.length, removed: removedTotal } };
    },
  };
}
