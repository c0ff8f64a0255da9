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

/**
 * One session's state. A class with every field set in the constructor, so all sessions share one
 * hidden class (the hot paths read them at every event).
 */
export class Session {
  status: Status;
  anchor: number;
  deadline: number;
  a: Held | null;
  /**
   * B and C events (sorted); emptied once the session is a tombstone (see `release`). Created with
   * their first event (`addSorted`), not up front: an empty array's first push allocates room for
   * 16, and most sessions hold one B and one C for an hour of event time.
   */
  bs: Held[];
  cs: Held[];
  revision: number;
  /** Per input topic: offset of the session's first event there (−1: none). */
  readonly firstOff: number[];
  /**
   * How many events the last emitted revision held. Its events are exactly the held ones whose
   * `rev` is this session's `revision` (see `sameAsEmitted`): that replaces comparing a signature
   * string of the sorted event ids, which was built on every check.
   */
  emittedCount: number;
  gone: boolean;
  /**
   * Every event id seen is either held (a, bs, cs) or listed here (dropped beyond grace, or let go
   * by `release`): duplicates are recognised by scanning those few, without a per-session Set.
   */
  private otherIds: string[] | null;
  /** Past 16 ids (a session flooded by a misbehaving client), all of them in a Set instead. */
  private idSet: Set<string> | null;
  private idCount: number;

  constructor(
    readonly id: string,
    readonly ps: PartitionState,
    ts: number,
    windowMs: number,
    topics: number,
  ) {
    this.status = 'open';
    this.anchor = ts;
    this.deadline = ts + windowMs;
    this.a = null;
    this.bs = NO_EVENTS;
    this.cs = NO_EVENTS;
    this.revision = 0;
    const firstOff = new Array<number>(topics);
    for (let i = 0; i < topics; i++) firstOff[i] = -1;
    this.firstOff = firstOff;
    this.emittedCount = 0;
    this.gone = false;
    this.otherIds = null;
    this.idSet = null;
    this.idCount = 0;
  }

  /** Whether an event with this id was already taken into the session (held, dropped or let go). */
  hasId(id: string): boolean {
    if (this.idSet !== null) return this.idSet.has(id);
    if (this.a !== null && this.a.id === id) return true;
    if (listHas(this.bs, id) || listHas(this.cs, id)) return true;
    const o = this.otherIds;
    if (o !== null) for (let i = 0; i < o.length; i++) if (o[i] === id) return true;
    return false;
  }

  /** Call once a new event is held. */
  noteAdded(h: Held): void {
    this.idCount++;
    if (this.idSet !== null) this.idSet.add(h.id);
    else if (this.idCount > 16) {
      const set = new Set<string>(this.otherIds ?? []);
      if (this.a !== null) set.add(this.a.id);
      for (const x of this.bs) set.add(x.id);
      for (const x of this.cs) set.add(x.id);
      this.idSet = set;
      this.otherIds = null;
    }
  }

  /** Call when a held event leaves the lists (dropped, released): its id stays known. */
  forget(h: Held): void {
    if (this.idSet !== null) return;
    if (this.otherIds === null) this.otherIds = [h.id];
    else this.otherIds.push(h.id);
  }
}

/** The shared empty B / C list of a session that has none (never written to: see `addSorted`). */
const NO_EVENTS: Held[] = [];

function listHas(list: readonly Held[], id: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i]!.id === id) return true;
  return false;
}

/**
 * Per topic-partition, the first offset of each session there, in offset order (two parallel
 * arrays instead of one entry object per session).
 */
class OffsetQueue {
  private offsets: number[] = [];
  private sessions: Session[] = [];
  private head = 0;
  push(offset: number, s: Session): void {
    this.offsets.push(offset);
    this.sessions.push(s);
  }
  /** The offset of the oldest entry whose session is live (not released), dropping the others. */
  front(): number | undefined {
    const ss = this.sessions;
    while (this.head < ss.length && ss[this.head]!.gone) this.head++;
    if (this.head > 1024 && this.head * 2 > ss.length) {
      this.offsets = this.offsets.slice(this.head);
      this.sessions = ss.slice(this.head);
      this.head = 0;
    }
    return this.head < this.sessions.length ? this.offsets[this.head] : undefined;
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
  /** The same, by topic index: iterated per event (minimum progress) without a Map iterator. */
  readonly topicList: readonly TopicProgress[];
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
  return new Session(id, ps, ts, windowMs, topics);
}

/** How many of a time-sorted list lie before event time `limit` (a prefix; usually all). */
function countBefore(list: readonly Held[], limit: number): number {
  let n = list.length;
  while (n > 0 && list[n - 1]!.ts >= limit) n--;
  return n;
}

/**
 * What a session holds before event time `limit` (B and C sorted by time). The lists themselves
 * when they lie wholly before it (the usual case): the result is read at once, never kept.
 */
export function contentBefore(s: Session, limit: number): Content {
  const a = s.a !== null && s.a.ts < limit ? s.a : null;
  const nb = countBefore(s.bs, limit);
  const nc = countBefore(s.cs, limit);
  return {
    a,
    bs: nb === s.bs.length ? s.bs : s.bs.slice(0, nb),
    cs: nc === s.cs.length ? s.cs : s.cs.slice(0, nc),
  };
}

/**
 * Whether what the session holds before `limit` is exactly the content of its last emission (an
 * emission now would repeat it), without building it: held events are distinct (duplicates are
 * dropped), the last emission's are those marked with the current revision, so equal counts and
 * every one marked means the same set. Before any emission (count 0) only empty content matches.
 */
export function sameAsEmitted(s: Session, limit: number): boolean {
  const rev = s.revision;
  let n = 0;
  if (s.a !== null && s.a.ts < limit) {
    if (s.a.rev !== rev) return false;
    n++;
  }
  const nb = markedBefore(s.bs, limit, rev);
  if (nb < 0) return false;
  const nc = markedBefore(s.cs, limit, rev);
  if (nc < 0) return false;
  return n + nb + nc === s.emittedCount;
}

/** How many of a sorted list lie before `limit`, or −1 if one of them is not marked `rev`. */
function markedBefore(list: readonly Held[], limit: number, rev: number): number {
  let n = 0;
  for (; n < list.length; n++) {
    const h = list[n]!;
    if (h.ts >= limit) break;
    if (h.rev !== rev) return -1;
  }
  return n;
}

/** A partition with nothing read yet from any of `inputTopics`. */
export function newPartitionState(partition: number, inputTopics: readonly string[]): PartitionState {
  const topics = new Map<string, TopicProgress>();
  const topicList: TopicProgress[] = [];
  for (const [i, t] of inputTopics.entries()) {
    const tp: TopicProgress = {
      topic: t,
      index: i,
      maxTs: MIN_WM,
      lastOffset: -1,
      nextFromRestore: null,
      firsts: new OffsetQueue(),
    };
    topics.set(t, tp);
    topicList.push(tp);
  }
  return {
    partition,
    wm: MIN_WM,
    topics,
    topicList,
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
    if (f !== undefined) live = true;
    cut.push(f ?? Number.POSITIVE_INFINITY);
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
  for (const tp of ps.topicList) {
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
 * A tombstone only answers "was this event part of it" (`hasId`): its content and what was
 * emitted are never read again, so they are let go — a tombstone then costs its ids (kept by
 * `forget`), not its events.
 */
export function release(s: Session): void {
  if (s.a !== null) s.forget(s.a);
  for (const h of s.bs) s.forget(h);
  for (const h of s.cs) s.forget(h);
  s.a = null;
  s.bs = NO_EVENTS;
  s.cs = NO_EVENTS;
  s.emittedCount = 0;
}

/** Whether the session holds an event at or after `limit` (lists are sorted by time). */
export function anyFrom(s: Session, limit: number): boolean {
  return (
    (s.a !== null && s.a.ts >= limit) ||
    (s.bs.length > 0 && s.bs[s.bs.length - 1]!.ts >= limit) ||
    (s.cs.length > 0 && s.cs[s.cs.length - 1]!.ts >= limit)
  );
}

export function anyBefore(list: readonly Held[], limit: number): boolean {
  // Sorted by time: the first one is the earliest.
  return list.length > 0 && list[0]!.ts < limit;
}

/** Inserts into a session's B or C list (by time, then id) and returns the list to keep. */
export function addSorted(list: Held[], h: Held): Held[] {
  if (list.length === 0) return [h];
  insertSorted(list, h);
  return list;
}

function insertSorted(list: Held[], h: Held): void {
  let i = list.length;
  while (i > 0 && cmpHeld(list[i - 1]!, h) > 0) i--;
  // Events mostly arrive in time order: appending is the common case.
  if (i === list.length) list.push(h);
  else list.splice(i, 0, h);
}

function cmpHeld(x: Held, y: Held): number {
  if (x.ts !== y.ts) return x.ts - y.ts;
  const a = x.id;
  const b = y.id;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function hasLate(c: Content, windowEnd: number): boolean {
  if (c.a && c.a.ts >= windowEnd) return true;
  // Sorted by time: the last one is the latest.
  return (
    (c.bs.length > 0 && c.bs[c.bs.length - 1]!.ts >= windowEnd) ||
    (c.cs.length > 0 && c.cs[c.cs.length - 1]!.ts >= windowEnd)
  );
}
