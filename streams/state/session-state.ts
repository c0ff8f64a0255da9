import type { Content, Held } from './build-example.ts';
import { MinHeap } from './min-heap.ts';
import type { JoinCheckpoint } from './session-join.ts';

/**
 * The state `SessionJoin` holds per partition and per session, and the pure functions over it:
 * replay snapshots and the checkpoints chosen from them, and the sorted event lists of a session.
 */

export const MIN_WM = Number.NEGATIVE_INFINITY;

export /**
 * open: inside its window; closed: window over, late events still revise it (grace);
 * tombstone: remembered so stragglers are dead-lettered; retired: past its tombstone, released
 * (forgotten) at the next `checkpoints` call.
 */
type Status = 'open' | 'closed' | 'tombstone' | 'retired';

export interface Session {
  readonly id: string;
  readonly ps: PartitionState;
  status: Status;
  anchor: number;
  deadline: number;
  readonly ids: Set<string>;
  a: Held | null;
  /** B and C events (sorted); emptied once the session is a tombstone (see `release`). */
  readonly bs: Held[];
  readonly cs: Held[];
  revision: number;
  /** Per input topic: offset of the session's first event there (−1: none). */
  readonly firstOff: number[];
  /** Signature (sorted event ids) of the last emitted content. */
  emittedSig: string;
  /** Every event id already part of an emitted revision: never dead-lettered afterwards. */
  emittedIds: Set<string> | null;
  gone: boolean;
}

interface OffsetEntry {
  readonly offset: number;
  readonly s: Session;
}

class OffsetQueue {
  private items: OffsetEntry[] = [];
  private head = 0;
  push(e: OffsetEntry): void {
    this.items.push(e);
  }
  /** The oldest entry whose session is live (not released), dropping the others. */
  front(): OffsetEntry | undefined {
    while (this.head < this.items.length && this.items[this.head]!.s.gone) this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return this.items[this.head];
  }
}

export interface TopicProgress {
  readonly topic: string;
  readonly index: number;
  maxTs: number;
  /** Last processed offset, -1 when nothing has been read since the start or restore. */
  lastOffset: number;
  nextFromRestore: number | null;
  readonly firsts: OffsetQueue;
}

export interface PartitionState {
  readonly partition: number;
  wm: number;
  readonly topics: Map<string, TopicProgress>;
  readonly sessions: Map<string, Session>;
  readonly deadlines: MinHeap<Session>;
  /** Positions and time state a replay could start from, oldest first (see `checkpoints`). */
  snapshots: Snapshot[];
  /** Sessions past their tombstone, released at the next checkpoint. */
  retired: Session[];
  /** After a restore: what was processed before it, whose outputs are not emitted again. */
  resume: { readonly offsets: readonly number[]; readonly wm: number } | null;
}

/** Where each input topic stood (next offset, null: nothing read yet) and the time state then. */
interface Snapshot {
  readonly offsets: (number | null)[];
  readonly maxTs: number[];
  readonly wm: number;
  /** Largest event time on any topic: no event before `offsets` is later than this. */
  readonly hi: number;
}

/** A new open session whose window starts at event time `ts`. */
export function newSession(
  ps: PartitionState,
  id: string,
  ts: number,
  windowMs: number,
  topics: number,
): Session {
  return {
    id,
    ps,
    status: 'open',
    anchor: ts,
    deadline: ts + windowMs,
    ids: new Set(),
    a: null,
    bs: [],
    cs: [],
    revision: 0,
    firstOff: Array.from({ length: topics }, () => -1),
    emittedSig: '',
    emittedIds: null,
    gone: false,
  };
}

/**
 * What a session holds before event time `limit`, its signature (the sorted event ids: equal
 * signatures mean an emission would repeat the last one) and which of A, B, C it has.
 */
export function contentBefore(
  s: Session,
  limit: number,
): { items: Content; sig: string; a: boolean; b: boolean; c: boolean } {
  const a = s.a && s.a.ts < limit ? s.a : null;
  const bs = s.bs.filter((h) => h.ts < limit);
  const cs = s.cs.filter((h) => h.ts < limit);
  const ids: string[] = [];
  if (a) ids.push(a.rec.event.event_id);
  for (const h of bs) ids.push(h.rec.event.event_id);
  for (const h of cs) ids.push(h.rec.event.event_id);
  sortStrings(ids);
  return {
    items: { a, bs, cs },
    sig: ids.join('\u0000'),
    a: a !== null,
    b: bs.length > 0,
    c: cs.length > 0,
  };
}

/** A partition with nothing read yet from any of `inputTopics`. */
export function newPartitionState(partition: number, inputTopics: readonly string[]): PartitionState {
  const topics = new Map<string, TopicProgress>();
  for (const [i, t] of inputTopics.entries()) {
    topics.set(t, {
      topic: t,
      index: i,
      maxTs: MIN_WM,
      lastOffset: -1,
      nextFromRestore: null,
      firsts: new OffsetQueue(),
    });
  }
  return {
    partition,
    wm: MIN_WM,
    topics,
    sessions: new Map(),
    deadlines: new MinHeap<Session>(),
    snapshots: [],
    retired: [],
    resume: null,
  };
}

export function partitionCheckpoints(ps: PartitionState, replayMs: number, res: JoinCheckpoint[]): void {
  for (const s of ps.retired) {
    s.gone = true;
    ps.sessions.delete(s.id);
  }
  ps.retired = [];
  const now = snapshotNow(ps);
  const r = ps.resume;
  if (r && ps.wm > r.wm && r.offsets.every((o, t) => (now.offsets[t] ?? -1) >= o)) ps.resume = null;
  const last = ps.snapshots[ps.snapshots.length - 1];
  // One snapshot per minute of event time is plenty to pick a replay start from.
  if (!last || now.wm >= last.wm + 60_000) ps.snapshots.push(now);
  let live = false;
  const cut: number[] = [];
  for (const tp of ps.topics.values()) {
    const f = tp.firsts.front();
    if (f) live = true;
    cut.push(f ? f.offset : Number.POSITIVE_INFINITY);
  }
  let start = now;
  if (live) {
    const limit = ps.wm - replayMs;
    let i = ps.snapshots.length - 1;
    for (; i > 0; i--) {
      const sn = ps.snapshots[i]!;
      if (sn.hi <= limit && sn.offsets.every((o, t) => o === null || o <= cut[t]!)) break;
    }
    start = ps.snapshots[i]!;
    if (i > 0) ps.snapshots = ps.snapshots.slice(i);
  } else {
    // Nothing live: nothing to rebuild, and nothing before here can be cut in two.
    ps.snapshots = [now];
  }
  for (const tp of ps.topics.values()) {
    const offset = start.offsets[tp.index];
    if (offset === null || offset === undefined) continue;
    res.push({
      topic: tp.topic,
      partition: ps.partition,
      offset,
      watermark: start.wm,
      topicMaxTs: start.maxTs[tp.index]!,
      resumeAt: now.offsets[tp.index] ?? offset,
      resumeWatermark: ps.wm,
    });
  }
}

/** Where the partition stands now, as a place a replay could start from. */
export function snapshotNow(ps: PartitionState): Snapshot {
  const offsets: (number | null)[] = [];
  const maxTs: number[] = [];
  let hi = MIN_WM;
  for (const tp of ps.topics.values()) {
    offsets.push(tp.lastOffset >= 0 ? tp.lastOffset + 1 : tp.nextFromRestore);
    maxTs.push(tp.maxTs);
    if (tp.maxTs > hi) hi = tp.maxTs;
  }
  return { offsets, maxTs, wm: ps.wm, hi };
}

/** The first record ever read from a topic-partition: snapshots from before it start there. */
export function firstRead(ps: PartitionState, index: number, offset: number): void {
  for (const sn of ps.snapshots) if (sn.offsets[index] === null) sn.offsets[index] = offset;
}

/**
 * Whether an output derived from a record at `offset` of topic `index`, at event time `at`, was
 * already emitted before the checkpoint this partition was restored from.
 */
export function repeated(ps: PartitionState, index: number, offset: number, at: number): boolean {
  const r = ps.resume;
  if (r === null) return false;
  if (at > r.wm) return false;
  return offset < r.offsets[index]!;
}

/**
 * A tombstone only answers "was this event part of it" (`ids`): its content and what was emitted
 * are never read again, so they are let go — a tombstone then costs its ids, not its events.
 */
export function release(s: Session): void {
  s.a = null;
  s.bs.length = 0;
  s.cs.length = 0;
  s.emittedIds = null;
  s.emittedSig = '';
}

/** Whether the session holds an event at or after `limit` (lists are sorted by time). */
export function anyFrom(s: Session, limit: number): boolean {
  return (
    (s.a !== null && s.a.ts >= limit) ||
    (s.bs.length > 0 && s.bs[s.bs.length - 1]!.ts >= limit) ||
    (s.cs.length > 0 && s.cs[s.cs.length - 1]!.ts >= limit)
  );
}

/** In place, ascending by UTF-16 code units: what `Array.prototype.sort()` does, faster for a few ids. */
function sortStrings(xs: string[]): void {
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i]!;
    let j = i - 1;
    while (j >= 0 && xs[j]! > x) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = x;
  }
}

export function anyBefore(list: readonly Held[], limit: number): boolean {
  // Sorted by time: the first one is the earliest.
  return list.length > 0 && list[0]!.ts < limit;
}

export function insertSorted(list: Held[], h: Held): void {
  let i = list.length;
  while (i > 0 && cmpHeld(list[i - 1]!, h) > 0) i--;
  list.splice(i, 0, h);
}

function cmpHeld(x: Held, y: Held): number {
  if (x.ts !== y.ts) return x.ts - y.ts;
  const a = x.rec.event.event_id;
  const b = y.rec.event.event_id;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function hasLate(c: Content, windowEnd: number): boolean {
  if (c.a && c.a.ts >= windowEnd) return true;
  return c.bs.some((h) => h.ts >= windowEnd) || c.cs.some((h) => h.ts >= windowEnd);
}
