import type { DeadLetter, TopicNames } from '../../schemas/index.ts';
import type { EventSerde } from '../codec/serde.ts';
import {
  checkpointFromCommit,
  type DecodedValue,
  decodeSessionRecord,
  isDeadLetter,
} from '../codec/session-codec.ts';
import type { Delivery } from '../log/event-log.ts';
import type { JoinBatch } from '../operators/join-by-session.ts';
import type { JoinCheckpoint, SessionRecord } from '../state/session-join.ts';

/** What turning a delivery into a join input needs of the topology config. */
export interface JoinInputConfig {
  readonly topics: TopicNames;
  readonly maxEventBytes: number;
  /**
   * While a partition is caught up, its event time is taken to move on at the clock's pace from
   * the newest event seen, after a pause of idleLagMs (for slow producers).
   */
  readonly idleLagMs: number;
}

export interface JoinToken {
  readonly delivery: Delivery;
  readonly decodeDead: readonly DeadLetter[];
}

/**
 * Per partition, the newest event time seen and when (by the processor's clock): the basis of the
 * idle watermark ticks.
 */
export class IdleTime {
  private readonly last = new Map<number, { maxTs: number; wall: number }>();

  seen(partition: number, ts: number, wall: number): void {
    const cur = this.last.get(partition);
    if (!cur) this.last.set(partition, { maxTs: ts, wall });
    else {
      if (ts > cur.maxTs) cur.maxTs = ts;
      cur.wall = wall;
    }
  }

  /** The event time a caught-up partition has reached, or null before any event. */
  floor(partition: number, wallNow: number, lagMs: number): number | null {
    const cur = this.last.get(partition);
    return cur ? cur.maxTs + Math.max(0, wallNow - cur.wall - lagMs) : null;
  }

  forget(partition: number): void {
    this.last.delete(partition);
  }
}

/**
 * Turns one consumer delivery into one join input; decode failures ride along in the token.
 * `values` (one per record of a batch) is what a serde decoded; without it, records are JSON.
 */
export function toJoinBatch(
  d: Delivery,
  cfg: JoinInputConfig,
  clock: () => number,
  idle: IdleTime = new IdleTime(),
  values?: readonly (DecodedValue | undefined)[],
): JoinBatch<JoinToken> {
  const ev = d.event;
  switch (ev.kind) {
    case 'assigned': {
      const byPartition = new Map<number, JoinCheckpoint[]>();
      for (const p of ev.partitions) {
        const list = byPartition.get(p.partition) ?? [];
        const cp = p.committed ? checkpointFromCommit(p.committed) : null;
        if (cp) list.push(cp);
        byPartition.set(p.partition, list);
      }
      return {
        assigned: [...byPartition].map(([partition, checkpoints]) => ({ partition, checkpoints })),
        token: { delivery: d, decodeDead: [] },
      };
    }
    case 'revoked':
      for (const p of ev.partitions) idle.forget(p.partition);
      return {
        revoked: [...new Set(ev.partitions.map((p) => p.partition))],
        token: { delivery: d, decodeDead: [] },
      };
    case 'idle': {
      const wall = clock();
      const ticks: { partition: number; now: number }[] = [];
      for (const partition of new Set(ev.partitions.map((p) => p.partition))) {
        const now = idle.floor(partition, wall, cfg.idleLagMs);
        if (now !== null) ticks.push({ partition, now });
      }
      return { ticks, token: { delivery: d, decodeDead: [] } };
    }
    case 'batch': {
      const records: SessionRecord[] = [];
      const dead: DeadLetter[] = [];
      for (const [i, r] of ev.records.entries()) {
        const x = decodeSessionRecord(r, cfg.topics, cfg.maxEventBytes, values?.[i]);
        if (isDeadLetter(x)) dead.push(x);
        else records.push(x);
      }
      const wall = clock();
      for (const r of records) idle.seen(r.partition, Date.parse(r.event.ts), wall);
      return {
        records,
        skipped: dead.map((x) => ({ topic: x.topic, partition: x.partition, offset: x.offset })),
        token: { delivery: d, decodeDead: dead },
      };
    }
  }
}

/**
 * Moves the records of erased users (event time at or before their erasure) from a join input to
 * its skipped offsets: the join never holds them, and the commit still passes them. Pure.
 */
export function withoutErased<T>(
  batch: JoinBatch<T>,
  erased: ReadonlyMap<string, number>,
): { batch: JoinBatch<T>; dropped: number } {
  if (!batch.records || batch.records.length === 0 || erased.size === 0) return { batch, dropped: 0 };
  const records: SessionRecord[] = [];
  const skipped = [...(batch.skipped ?? [])];
  for (const r of batch.records) {
    const at = erased.get(r.event.user_id);
    if (at !== undefined && !(Date.parse(r.event.ts) > at))
      skipped.push({ topic: r.topic, partition: r.partition, offset: r.offset });
    else records.push(r);
  }
  return { batch: { ...batch, records, skipped }, dropped: batch.records.length - records.length };
}

/** A batch's values decoded by the serde, one per record; oversized ones are left to the codec. */
export async function decodeDelivery(
  serde: EventSerde,
  d: Delivery,
  maxBytes: number,
): Promise<(DecodedValue | undefined)[] | undefined> {
  if (d.event.kind !== 'batch') return undefined;
  const records = d.event.records;
  const wanted = records.flatMap((r, i) => (r.value.length > maxBytes ? [] : [i]));
  const decoded = await serde.decodeMany(wanted.map((i) => records[i]!.value));
  const out: (DecodedValue | undefined)[] = new Array(records.length).fill(undefined);
  wanted.forEach((i, j) => {
    out[i] = decoded[j];
  });
  return out;
}
