import type {
  ParaphraseEvent,
  RecommendEvent,
  SelectionEvent,
  SessionEvent,
  SourceEventRef,
  TrainingExample,
} from '../../schemas/index.ts';
import { SCHEMA_VERSION } from '../../schemas/index.ts';
import { MinHeap } from './min-heap.ts';

/** One decoded A/B/C event with where it was read from. */
export interface SessionRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly event: SessionEvent;
}

/**
 * Where to resume one input topic-partition, and the time state needed to replay from there with
 * the same decisions. `offset` is the next offset to read (Kafka's convention for commits).
 */
export interface JoinCheckpoint {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Partition watermark when the replay snapshot at `offset` was taken. */
  readonly watermark: number;
  /** Largest event time seen on this topic-partition before `offset`. */
  readonly topicMaxTs: number;
  /**
   * How far this topic-partition had been processed when the checkpoint was taken (outputs up to
   * there are durable), and the partition watermark then: a replay re-derives what lies between
   * `offset` and here without emitting it again (see `checkpoints`). Absent: emit everything.
   */
  readonly resumeAt?: number;
  readonly resumeWatermark?: number;
}

export type DeadLetterCode =
  | 'malformed_json'
  | 'schema_invalid'
  | 'oversized'
  | 'too_late'
  | 'beyond_grace'
  | 'session_closed'
  | 'conflicting_recommend'
  | 'user_mismatch'
  | 'wrong_key';

export interface DeadLetter {
  readonly code: DeadLetterCode;
  readonly reason: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly event_id: string | null;
  readonly recommend_session_id: string | null;
  /** The parsed event when there was one; decode failures carry the raw bytes instead. */
  readonly event?: SessionEvent;
  readonly raw?: string;
}

export interface SessionJoinOptions {
  /** The A, B and C topics: the partition watermark is the minimum of their event-time progress. */
  readonly inputTopics: readonly string[];
  /** Event-time length of a session, from its earliest event (default 30 min). */
  readonly windowMs?: number;
  /** After the window, how long a late event still revises the example (default 10 min). */
  readonly graceMs?: number;
  /** How long a closed session's id is remembered to dead-letter stragglers (default = windowMs). */
  readonly tombstoneMs?: number;
  /** A → B or B → C gaps longer than this lower the consistency flag (default 10 min). */
  readonly plausibleGapMs?: number;
  /**
   * How much event time a replay re-reads before the oldest live session (default 2 × (window +
   * grace + tombstone)): enough that the sessions cut in two by the replay's start have closed,
   * silently, before the replay reaches new input. See `checkpoints`.
   */
  readonly replayMs?: number;
}

const MIN_WM = Number.NEGATIVE_INFINITY;

/**
 * open: inside its window; closed: window over, late events still revise it (grace);
 * tombstone: remembered so stragglers are dead-lettered; retired: past its tombstone, released
 * (forgotten) at the next `checkpoints` call.
 */
type Status = 'open' | 'closed' | 'tombstone' | 'retired';

interface Held {
  readonly rec: SessionRecord;
  readonly ts: number;
}

interface Session {
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

interface TopicProgress {
  readonly topic: string;
  readonly index: number;
  maxTs: number;
  /** Last processed offset, -1 when nothing has been read since the start or restore. */
  lastOffset: number;
  nextFromRestore: number | null;
  readonly firsts: OffsetQueue;
}

interface PartitionState {
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

export interface JoinStepOutput {
  readonly examples: TrainingExample[];
  readonly deadLetters: DeadLetter[];
}

/**
 * The pure state machine behind `joinBySession`: A/B/C events of one recommend session are joined
 * into training examples (H) in event time. It owns no clock and does no I/O; time moves only with
 * the events' own timestamps and explicit watermark ticks, so a replay makes the same decisions.
 *
 * Watermark: per partition, the minimum over the A/B/C topics of the largest event time seen on
 * each (a topic not yet seen holds it back; a tick from a caught-up source lifts it). With each
 * topic-partition roughly in time order, every event of a session earlier than its window end has
 * been read before the window closes, whatever the interleaving of the three topics.
 *
 * Emissions per session (revision numbers count up from 1):
 *  - as soon as A, B and C are all present within the window (closed_by "complete");
 *  - when the window closes, if the in-window content changed since the last emission ("window");
 *  - during grace, when late events make it complete, and at the end of grace if anything
 *    changed ("grace"). Later events for the session are dead-lettered.
 */
export class SessionJoin {
  private readonly topicsIn: readonly string[];
  private readonly windowMs: number;
  private readonly graceMs: number;
  private readonly tombstoneMs: number;
  private readonly gapMs: number;
  private readonly parts = new Map<number, PartitionState>();
  private out: JoinStepOutput = { examples: [], deadLetters: [] };
  private readonly touched = new Set<number>();
  /** The partition whose deadlines `advance` is popping right now (see `schedule`). */
  private advancing: PartitionState | null = null;
  private readonly replayMs: number;
  /** While `advance` handles a deadline: that deadline (the time the outputs it causes belong to). */
  private deadlineNow: number | null = null;

  constructor(opts: SessionJoinOptions) {
    if (opts.inputTopics.length === 0 || opts.inputTopics.length > 30) {
      throw new Error('SessionJoin needs between 1 and 30 input topics');
    }
    this.topicsIn = [...opts.inputTopics];
    this.windowMs = opts.windowMs ?? 30 * 60_000;
    this.graceMs = opts.graceMs ?? 10 * 60_000;
    this.tombstoneMs = opts.tombstoneMs ?? Math.max(this.windowMs, this.graceMs);
    this.gapMs = opts.plausibleGapMs ?? 10 * 60_000;
    this.replayMs = opts.replayMs ?? 2 * (this.windowMs + this.graceMs + this.tombstoneMs);
    if (!(this.replayMs >= this.windowMs + this.graceMs + this.tombstoneMs)) {
      // Shorter, and a session cut in two by a replay's start could still be open when the replay
      // reaches new input.
      throw new Error('SessionJoin: replayMs must be >= windowMs + graceMs + tombstoneMs');
    }
    if (!(this.windowMs > 0) || !(this.graceMs >= 0) || !(this.tombstoneMs >= this.graceMs)) {
      // tombstoneMs >= graceMs keeps every timely event of a session arriving while it is held.
      throw new Error('SessionJoin: windowMs must be > 0, graceMs >= 0 and tombstoneMs >= graceMs');
    }
  }

  /** Sessions currently held (open, in grace, or remembered as closed) across partitions. */
  get heldSessions(): number {
    let n = 0;
    for (const ps of this.parts.values()) n += ps.sessions.size;
    return n;
  }

  /** The watermark of a partition (−Infinity before any progress). */
  watermark(partition: number): number {
    return this.parts.get(partition)?.wm ?? MIN_WM;
  }

  /** Start (or restart) a partition from committed checkpoints; forgets what was held for it. */
  assign(partition: number, checkpoints: readonly JoinCheckpoint[] = []): void {
    const ps = this.newPartition(partition);
    let wm = Number.POSITIVE_INFINITY;
    const resumeAt = this.topicsIn.map(() => -1);
    let resumeWm = Number.NEGATIVE_INFINITY;
    for (const cp of checkpoints) {
      if (cp.partition !== partition) continue;
      const tp = ps.topics.get(cp.topic);
      if (!tp) continue;
      tp.maxTs = cp.topicMaxTs;
      tp.nextFromRestore = cp.offset;
      wm = Math.min(wm, cp.watermark);
      if (cp.resumeAt !== undefined && cp.resumeWatermark !== undefined) {
        resumeAt[tp.index] = cp.resumeAt;
        resumeWm = Math.max(resumeWm, cp.resumeWatermark);
      }
    }
    ps.wm = wm === Number.POSITIVE_INFINITY ? MIN_WM : wm;
    if (resumeAt.some((o) => o >= 0)) ps.resume = { offsets: resumeAt, wm: resumeWm };
    ps.snapshots.push(this.snapshotNow(ps));
    this.parts.set(partition, ps);
  }

  /** Drop a partition handed to another instance; it will rebuild the state from the checkpoint. */
  revoke(partition: number): void {
    const ps = this.parts.get(partition);
    if (!ps) return;
    for (const s of ps.sessions.values()) {
      s.gone = true;
      s.status = 'retired';
    }
    this.parts.delete(partition);
    this.touched.delete(partition);
  }

  /** Feed one record. Outputs accumulate until `drain()`. */
  push(rec: SessionRecord): void {
    const ps = this.partitionOf(rec.partition);
    this.touched.add(rec.partition);
    const tp = ps.topics.get(rec.topic);
    if (!tp) throw new Error(`SessionJoin: record from unexpected topic ${rec.topic}`);
    const ev = rec.event;
    const ts = parseIsoMs(ev.ts);
    const maxBefore = tp.maxTs;
    if (tp.lastOffset < 0 && tp.nextFromRestore === null) this.firstRead(ps, tp.index, rec.offset);
    tp.lastOffset = rec.offset;

    const s = ps.sessions.get(ev.recommend_session_id);
    if (s === undefined) {
      // Judged against this topic's own progress (a function of the offset alone), so a replay
      // from a checkpoint makes the same call whatever the other topics are doing.
      if (ts < maxBefore - this.graceMs) {
        this.dead(
          rec,
          'too_late',
          `event time ${ev.ts} is more than grace behind its topic (${iso(maxBefore)})`,
        );
      } else {
        const ns = this.newSession(ps, ev.recommend_session_id, ts);
        ps.sessions.set(ns.id, ns);
        this.track(ns, tp, rec.offset);
        this.add(ns, rec, ts);
        this.schedule(ns);
      }
    } else {
      // A session's first offset per topic keeps the commit at or before it while it is live.
      this.track(s, tp, rec.offset);
      if (s.ids.has(ev.event_id)) {
        // An exact duplicate (producer retry, replay): already part of this session's example.
      } else if (s.status === 'tombstone' || s.status === 'retired') {
        this.dead(rec, 'session_closed', `session ${s.id} closed and its grace period ended`);
      } else if (s.status === 'closed' && ts >= s.anchor + this.windowMs + this.graceMs) {
        this.dead(rec, 'beyond_grace', `event time ${ev.ts} is after the session's window and grace`);
      } else if (!this.rejectConflict(s, rec)) {
        this.add(s, rec, ts);
        if (s.status === 'open' && ts < s.anchor) {
          s.anchor = ts;
          this.schedule(s);
        }
        this.maybeEmitComplete(s);
      }
    }

    if (ts > tp.maxTs) {
      tp.maxTs = ts;
      this.advance(ps, this.minTopicTs(ps));
    }
  }

  /** A record that never reached the join (dead-lettered at decode) still moves the commit position. */
  skip(topic: string, partition: number, offset: number): void {
    const ps = this.partitionOf(partition);
    const tp = ps.topics.get(topic);
    if (!tp) throw new Error(`SessionJoin: record from unexpected topic ${topic}`);
    if (tp.lastOffset < 0 && tp.nextFromRestore === null) this.firstRead(ps, tp.index, offset);
    if (offset > tp.lastOffset) tp.lastOffset = offset;
    this.touched.add(partition);
  }

  /** The source says every input of `partition` is caught up at event time `now`. */
  tick(partition: number, now: number): void {
    const ps = this.partitionOf(partition);
    this.touched.add(partition);
    this.advance(ps, now);
  }

  /** End of input: close every session as if time ran out (used for bounded replays). */
  flushAll(): void {
    for (const ps of this.parts.values()) {
      this.touched.add(ps.partition);
      this.advance(ps, Number.POSITIVE_INFINITY);
    }
  }

  /** Take the accumulated outputs. */
  drain(): JoinStepOutput {
    const o = this.out;
    this.out = { examples: [], deadLetters: [] };
    return o;
  }

  /**
   * Checkpoints of the partitions touched since the last call. Per topic, the position is where a
   * replay rebuilds the state from: a snapshot taken at or before the first event of every live
   * session (so each of them is replayed whole) and, while any session is live, at least
   * `replayMs` of event time before now. A session that ended before that point but had later
   * events (a late selection, a straggler) is replayed in part; the margin makes sure such a part
   * has closed, within the replayed stretch, by the time the replay reaches new input, and
   * everything the replay derives from records it had already processed (`resumeAt`, up to the
   * watermark it had then) is not emitted again: it was, before the commit. So the state, the
   * replay and the commit lag are bounded by the window, not by how sessions overlap.
   */
  checkpoints(all = false): JoinCheckpoint[] {
    const res: JoinCheckpoint[] = [];
    const parts = all ? [...this.parts.keys()] : [...this.touched];
    this.touched.clear();
    for (const p of parts) {
      const ps = this.parts.get(p);
      if (ps) this.partitionCheckpoints(ps, res);
    }
    return res;
  }

  private partitionCheckpoints(ps: PartitionState, res: JoinCheckpoint[]): void {
    for (const s of ps.retired) {
      s.gone = true;
      ps.sessions.delete(s.id);
    }
    ps.retired = [];
    const now = this.snapshotNow(ps);
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
      const limit = ps.wm - this.replayMs;
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
  private snapshotNow(ps: PartitionState): Snapshot {
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
  private firstRead(ps: PartitionState, index: number, offset: number): void {
    for (const sn of ps.snapshots) if (sn.offsets[index] === null) sn.offsets[index] = offset;
  }

  /**
   * Whether an output derived from a record at `offset` of topic `index`, at event time `at`, was
   * already emitted before the checkpoint this partition was restored from.
   */
  private repeated(ps: PartitionState, index: number, offset: number, at: number): boolean {
    const r = ps.resume;
    if (r === null) return false;
    if (at > r.wm) return false;
    return offset < r.offsets[index]!;
  }

  // ---- internals ---------------------------------------------------------------------------

  private newPartition(partition: number): PartitionState {
    const topics = new Map<string, TopicProgress>();
    for (const [i, t] of this.topicsIn.entries()) {
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

  private partitionOf(partition: number): PartitionState {
    let ps = this.parts.get(partition);
    if (!ps) {
      ps = this.newPartition(partition);
      ps.snapshots.push(this.snapshotNow(ps));
      this.parts.set(partition, ps);
    }
    return ps;
  }

  private newSession(ps: PartitionState, id: string, ts: number): Session {
    return {
      id,
      ps,
      status: 'open',
      anchor: ts,
      deadline: ts + this.windowMs,
      ids: new Set(),
      a: null,
      bs: [],
      cs: [],
      revision: 0,
      firstOff: this.topicsIn.map(() => -1),
      emittedSig: '',
      emittedIds: null,
      gone: false,
    };
  }

  private track(s: Session, tp: TopicProgress, offset: number): void {
    const i = tp.index;
    if (s.firstOff[i]! >= 0) return;
    // Only the first offset per topic holds back the commit position; later ones are higher.
    s.firstOff[i] = offset;
    tp.firsts.push({ offset, s });
  }

  private add(s: Session, rec: SessionRecord, ts: number): void {
    s.ids.add(rec.event.event_id);
    const held = { rec, ts };
    switch (rec.event.type) {
      case 'recommend':
        s.a = held;
        break;
      case 'paraphrase':
        insertSorted(s.bs, held);
        break;
      case 'selection':
        insertSorted(s.cs, held);
        break;
    }
  }

  private rejectConflict(s: Session, rec: SessionRecord): boolean {
    const ev = rec.event;
    const owner = s.a ?? s.bs[0] ?? s.cs[0];
    if (owner && owner.rec.event.user_id !== ev.user_id) {
      this.dead(
        rec,
        'user_mismatch',
        `session ${s.id} belongs to user ${owner.rec.event.user_id}, not ${ev.user_id}`,
      );
      return true;
    }
    if (ev.type === 'recommend' && s.a !== null) {
      this.dead(
        rec,
        'conflicting_recommend',
        `session ${s.id} already has recommend event ${s.a.rec.event.event_id}`,
      );
      return true;
    }
    return false;
  }

  private schedule(s: Session): void {
    if (s.status === 'retired') return;
    const d =
      s.status === 'open'
        ? s.anchor + this.windowMs
        : s.status === 'closed'
          ? s.anchor + this.windowMs + this.graceMs
          : s.anchor + this.windowMs + this.graceMs + this.tombstoneMs;
    s.deadline = d;
    s.ps.deadlines.push(d, s);
    // A deadline that already passed (anchor moved back, or the next stage of a session closed by
    // a big watermark step) is handled at once: by the advance loop running now if there is one
    // (it pops the heap in the same order a nested call would, without a stack frame per
    // session), else by a new one.
    if (d <= s.ps.wm && this.advancing !== s.ps) this.advance(s.ps, s.ps.wm);
  }

  private minTopicTs(ps: PartitionState): number {
    let m = Number.POSITIVE_INFINITY;
    for (const tp of ps.topics.values()) if (tp.maxTs < m) m = tp.maxTs;
    return m;
  }

  private advance(ps: PartitionState, to: number): void {
    if (to > ps.wm) ps.wm = to;
    const wm = ps.wm;
    const heap = ps.deadlines;
    const outer = this.advancing;
    this.advancing = ps;
    try {
      for (;;) {
        const k = heap.peekKey();
        if (k === undefined || k > wm) break;
        const s = heap.pop()!;
        if (s.gone || s.deadline !== k) continue; // stale heap entry
        const outerDeadline = this.deadlineNow;
        this.deadlineNow = k;
        try {
          this.onDeadline(s);
        } finally {
          this.deadlineNow = outerDeadline;
        }
      }
    } finally {
      this.advancing = outer;
    }
  }

  private onDeadline(s: Session): void {
    if (s.status === 'open') {
      s.status = 'closed';
      // Events beyond window + grace never count, even if they were read before the window closed.
      const limit = s.anchor + this.windowMs + this.graceMs;
      this.dropBeyond(s, limit);
      const windowEnd = s.anchor + this.windowMs;
      const inWindow = this.content(s, windowEnd);
      if (inWindow.sig !== s.emittedSig) this.emit(s, inWindow, 'window');
      // With no event at or after the window end, the whole content is what was just compared
      // (and is now emitted): nothing more to emit.
      if (anyFrom(s, windowEnd)) this.maybeEmitComplete(s);
      this.schedule(s);
    } else if (s.status === 'closed') {
      const all = this.content(s, Number.POSITIVE_INFINITY);
      if (all.sig !== s.emittedSig) this.emit(s, all, 'grace');
      s.status = 'tombstone';
      release(s);
      this.schedule(s);
    } else if (s.status === 'tombstone') {
      // Released at the next checkpoint; after that a later event for it is judged as one of an
      // unknown session.
      s.status = 'retired';
      s.ps.retired.push(s);
      this.touched.add(s.ps.partition);
    }
  }

  private dropBeyond(s: Session, limit: number): void {
    let why: string | null = null;
    const beyond = (h: Held) => h.ts >= limit && !(s.emittedIds?.has(h.rec.event.event_id) ?? false);
    if (s.a && beyond(s.a)) {
      why ??= beyondWhy(limit);
      this.dead(s.a.rec, 'beyond_grace', why);
      s.a = null;
    }
    for (const list of [s.bs, s.cs]) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (beyond(list[i]!)) {
          why ??= beyondWhy(limit);
          this.dead(list[i]!.rec, 'beyond_grace', why);
          list.splice(i, 1);
        }
      }
    }
  }

  private maybeEmitComplete(s: Session): void {
    if (s.status === 'tombstone' || s.status === 'retired') return;
    const limit = s.status === 'open' ? s.anchor + this.windowMs : Number.POSITIVE_INFINITY;
    // Cheap presence check first: most pushes add to a session that is not complete yet.
    if (!(s.a !== null && s.a.ts < limit && anyBefore(s.bs, limit) && anyBefore(s.cs, limit))) return;
    const c = this.content(s, limit);
    if (c.a && c.b && c.c && c.sig !== s.emittedSig) {
      this.emit(s, c, s.status === 'open' ? 'complete' : 'grace');
    }
  }

  private content(
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

  private emit(s: Session, c: { items: Content; sig: string }, closedBy: TrainingExample['closed_by']): void {
    s.revision += 1;
    s.emittedSig = c.sig;
    const { a, bs, cs } = c.items;
    if (s.emittedIds === null) s.emittedIds = new Set();
    const emitted = s.emittedIds;
    if (a) emitted.add(a.rec.event.event_id);
    for (const h of bs) emitted.add(h.rec.event.event_id);
    for (const h of cs) emitted.add(h.rec.event.event_id);
    const late = closedBy === 'grace' && hasLate(c.items, s.anchor + this.windowMs);
    if (this.allRepeated(s.ps, c.items)) return;
    this.out.examples.push(buildExample(s.id, s.revision, c.items, closedBy, late, this.gapMs));
  }

  /** Whether every event of this content was processed, and so emitted, before the restore. */
  private allRepeated(ps: PartitionState, items: Content): boolean {
    if (ps.resume === null) return false;
    const at = this.deadlineNow ?? ps.wm;
    const held = [...(items.a ? [items.a] : []), ...items.bs, ...items.cs];
    return held.every((h) => this.repeated(ps, ps.topics.get(h.rec.topic)!.index, h.rec.offset, at));
  }

  private dead(rec: SessionRecord, code: DeadLetterCode, reason: string): void {
    const ps = this.parts.get(rec.partition);
    const tp = ps?.topics.get(rec.topic);
    if (ps && tp && this.repeated(ps, tp.index, rec.offset, this.deadlineNow ?? ps.wm)) return;
    this.out.deadLetters.push({
      code,
      reason,
      topic: rec.topic,
      partition: rec.partition,
      offset: rec.offset,
      event_id: rec.event.event_id,
      recommend_session_id: rec.event.recommend_session_id,
      event: rec.event,
    });
  }
}

interface Content {
  readonly a: Held | null;
  readonly bs: readonly Held[];
  readonly cs: readonly Held[];
}

/**
 * A tombstone only answers "was this event part of it" (`ids`): its content and what was emitted
 * are never read again, so they are let go — a tombstone then costs its ids, not its events.
 */
function release(s: Session): void {
  s.a = null;
  s.bs.length = 0;
  s.cs.length = 0;
  s.emittedIds = null;
  s.emittedSig = '';
}

/** Whether the session holds an event at or after `limit` (lists are sorted by time). */
function anyFrom(s: Session, limit: number): boolean {
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

const digit = (str: string, i: number): number => str.charCodeAt(i) - 48;
const two = (str: string, i: number): number => {
  const a = digit(str, i);
  const b = digit(str, i + 1);
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * `Date.parse` for event times, which the join reads for every record: the canonical
 * `YYYY-MM-DDTHH:MM:SS.sssZ` form the schemas produce is computed directly (for the ranges where
 * that is certainly the same number); anything else goes to `Date.parse`.
 */
function parseIsoMs(str: string): number {
  if (
    str.length === 24 &&
    str.charCodeAt(4) === 45 && // -
    str.charCodeAt(7) === 45 &&
    str.charCodeAt(10) === 84 && // T
    str.charCodeAt(13) === 58 && // :
    str.charCodeAt(16) === 58 &&
    str.charCodeAt(19) === 46 && // .
    str.charCodeAt(23) === 90 // Z
  ) {
    const yh = two(str, 0);
    const yl = two(str, 2);
    const y = yh * 100 + yl;
    const mo = two(str, 5);
    const d = two(str, 8);
    const h = two(str, 11);
    const mi = two(str, 14);
    const sec = two(str, 17);
    const c = digit(str, 20);
    const ms = two(str, 21);
    if (
      yh >= 0 &&
      yl >= 0 &&
      y >= 1970 &&
      mo >= 1 &&
      mo <= 12 &&
      d >= 1 &&
      d <= 28 &&
      h >= 0 &&
      h <= 23 &&
      mi >= 0 &&
      mi <= 59 &&
      sec >= 0 &&
      sec <= 59 &&
      c >= 0 &&
      c <= 9 &&
      ms >= 0
    ) {
      // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
      const yy = mo <= 2 ? y - 1 : y;
      const era = Math.floor(yy / 400);
      const yoe = yy - era * 400;
      const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
      const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
      return ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + c * 100 + ms;
    }
  }
  return Date.parse(str);
}

function anyBefore(list: readonly Held[], limit: number): boolean {
  // Sorted by time: the first one is the earliest.
  return list.length > 0 && list[0]!.ts < limit;
}

function beyondWhy(limit: number): string {
  return `event time is after the session's window and grace (${iso(limit)})`;
}

function insertSorted(list: Held[], h: Held): void {
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

function hasLate(c: Content, windowEnd: number): boolean {
  if (c.a && c.a.ts >= windowEnd) return true;
  return c.bs.some((h) => h.ts >= windowEnd) || c.cs.some((h) => h.ts >= windowEnd);
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

const TYPE_ORDER = { recommend: 0, paraphrase: 1, selection: 2 } as const;

function ref(h: Held): SourceEventRef {
  return {
    event_id: h.rec.event.event_id,
    type: h.rec.event.type,
    topic: h.rec.topic,
    partition: h.rec.partition,
    offset: h.rec.offset,
  };
}

/** Builds H from the session's content; pure and deterministic in the content alone. */
export function buildExample(
  sessionId: string,
  revision: number,
  c: Content,
  closedBy: TrainingExample['closed_by'],
  late: boolean,
  gapMs: number,
): TrainingExample {
  const a = c.a ? (c.a.rec.event as RecommendEvent) : null;
  const bs = c.bs.map((h) => h.rec.event as ParaphraseEvent);
  const cEv = c.cs.length > 0 ? (c.cs[c.cs.length - 1]!.rec.event as SelectionEvent) : null;
  const lastB = bs.length > 0 ? bs[bs.length - 1]! : null;
  const all: Held[] = [...(c.a ? [c.a] : []), ...c.bs, ...c.cs];
  const first = all.reduce((m, h) => (h.ts < m.ts ? h : m));
  const last = all.reduce((m, h) => (h.ts > m.ts ? h : m));

  const reasons: { text: string; severity: 'low' | 'medium' }[] = [];
  if (!a) reasons.push({ text: 'missing recommend (A)', severity: 'low' });
  if (!lastB && cEv) reasons.push({ text: 'selection (C) without a paraphrase (B)', severity: 'low' });
  if (a && !lastB && !cEv)
    reasons.push({ text: 'not paraphrased: the session closed after A', severity: 'medium' });
  if (lastB && !cEv)
    reasons.push({ text: 'no selection (C): abandoned after paraphrase', severity: 'medium' });
  const aTs = c.a?.ts;
  const bTs = c.bs.length > 0 ? c.bs[0]!.ts : undefined;
  const lastBTs = c.bs.length > 0 ? c.bs[c.bs.length - 1]!.ts : undefined;
  const cTs = c.cs.length > 0 ? c.cs[c.cs.length - 1]!.ts : undefined;
  if (
    (aTs !== undefined && bTs !== undefined && bTs < aTs) ||
    (lastBTs !== undefined && cTs !== undefined && cTs < lastBTs)
  ) {
    reasons.push({ text: 'out-of-order event times', severity: 'medium' });
  } else {
    if (aTs !== undefined && bTs !== undefined && bTs - aTs > gapMs) {
      reasons.push({
        text: `implausible gap A→B of ${Math.round((bTs - aTs) / 1000)} s`,
        severity: 'medium',
      });
    }
    if (lastBTs !== undefined && cTs !== undefined && cTs - lastBTs > gapMs) {
      reasons.push({
        text: `implausible gap B→C of ${Math.round((cTs - lastBTs) / 1000)} s`,
        severity: 'medium',
      });
    }
  }
  if (cEv && cEv.chosen_index !== null && lastB && cEv.chosen_index >= lastB.candidates.length) {
    reasons.push({
      text: `chosen_index ${cEv.chosen_index} out of range of ${lastB.candidates.length} candidates`,
      severity: 'low',
    });
  }
  if (late) reasons.push({ text: 'late event within grace', severity: 'medium' });
  const lows = reasons.filter((r) => r.severity === 'low').length;
  const consistency = lows > 0 || reasons.length >= 2 ? 'low' : reasons.length === 1 ? 'medium' : 'high';

  const outcome: TrainingExample['outcome'] = cEv
    ? cEv.chosen_index === null
      ? 'rejected'
      : cEv.edited
        ? 'edited'
        : 'accepted'
    : lastB
      ? 'rejected'
      : a
        ? 'not_paraphrased'
        : 'unknown';

  const req = lastB?.request;
  const chosen = req && 'category' in req ? { category: req.category, intensity: req.intensity } : null;
  const styleRequest = req && 'style_request' in req ? req.style_request : null;
  const acceptedText =
    cEv && cEv.chosen_index !== null ? (cEv.final_text ?? lastB?.candidates[cEv.chosen_index] ?? null) : null;

  const sources = all.map(ref);
  sources.sort((x, y) => TYPE_ORDER[x.type] - TYPE_ORDER[y.type] || (x.event_id < y.event_id ? -1 : 1));

  return {
    type: 'training_example',
    event_id: `h:${sessionId}:${revision}`,
    schema_version: SCHEMA_VERSION,
    ts: last.rec.event.ts,
    user_id: (a ?? first.rec.event).user_id,
    recommend_session_id: sessionId,
    revision,
    funnel: `${a ? 'A' : ''}${lastB ? 'B' : ''}${cEv ? 'C' : ''}`,
    closed_by: closedBy,
    doc_id: a?.doc_id ?? null,
    context: a?.context ?? null,
    recommended: a
      ? {
          event_id: a.event_id,
          ts: a.ts,
          options: a.options,
          alpha: a.alpha,
          beta: a.beta,
          variant: a.variant,
          explored: a.explored,
          model_version: a.model_version,
          profile_version: a.profile_version,
        }
      : null,
    paraphrases: bs.map((b) => ({
      event_id: b.event_id,
      ts: b.ts,
      request: b.request,
      candidates: b.candidates,
      provider: b.llm.provider,
      model: b.llm.model,
      variant: b.llm.variant,
    })),
    selection: cEv
      ? {
          event_id: cEv.event_id,
          ts: cEv.ts,
          chosen_index: cEv.chosen_index,
          final_text: cEv.final_text ?? null,
          edited: cEv.edited,
        }
      : null,
    chosen_option: chosen,
    style_request: styleRequest,
    accepted_text: acceptedText,
    outcome,
    consistency,
    consistency_reasons: reasons.map((r) => r.text),
    source_events: sources,
  };
}
