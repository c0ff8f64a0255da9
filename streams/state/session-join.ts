import type { DeadLetter, DeadLetterCode, SessionEvent, TrainingExample } from '../../schemas/index.ts';
import { buildExample, type Content, type Held } from './build-example.ts';
import { isoTime, parseIsoMs } from './iso-time.ts';
import {
  addSorted,
  anyBefore,
  anyFrom,
  contentBefore,
  firstRead,
  hasLate,
  MIN_WM,
  newPartitionState,
  newSession,
  type PartitionState,
  partitionCheckpoints,
  release,
  repeated,
  type Session,
  sameAsEmitted,
  snapshotNow,
  type TopicProgress,
} from './session-state.ts';

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
  /**
   * The partition of the last pushed record, already in `touched`: a delivery holds one
   * topic-partition, so most pushes skip both map look-ups. Reset whenever `parts` or `touched`
   * change otherwise (assign, revoke, checkpoints).
   */
  private lastPs: PartitionState | null = null;

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
    const ps = newPartitionState(partition, this.topicsIn);
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
    ps.snapshots.push(snapshotNow(ps));
    this.parts.set(partition, ps);
    this.lastPs = null;
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
    this.lastPs = null;
  }

  /** Feed one record. Outputs accumulate until `drain()`. */
  push(rec: SessionRecord): void {
    let ps = this.lastPs;
    if (ps === null || ps.partition !== rec.partition) {
      ps = this.partitionOf(rec.partition);
      this.touched.add(rec.partition);
      this.lastPs = ps;
    }
    const tp = ps.topics.get(rec.topic);
    if (!tp) throw new Error(`SessionJoin: record from unexpected topic ${rec.topic}`);
    const ev = rec.event;
    const ts = parseIsoMs(ev.ts);
    const maxBefore = tp.maxTs;
    if (tp.lastOffset < 0 && tp.nextFromRestore === null) firstRead(ps, tp.index, rec.offset);
    tp.lastOffset = rec.offset;

    const s = ps.sessions.get(ev.recommend_session_id);
    if (s === undefined) {
      // Judged against this topic's own progress (a function of the offset alone), so a replay
      // from a checkpoint makes the same call whatever the other topics are doing.
      if (ts < maxBefore - this.graceMs) {
        this.dead(
          rec,
          'too_late',
          `event time ${ev.ts} is more than grace behind its topic (${isoTime(maxBefore)})`,
        );
      } else {
        const ns = newSession(ps, ev.recommend_session_id, ts, this.windowMs, this.topicsIn.length);
        ps.sessions.set(ns.id, ns);
        this.track(ns, tp, rec.offset);
        this.add(ns, rec, ts);
        this.schedule(ns);
      }
    } else {
      // A session's first offset per topic keeps the commit at or before it while it is live.
      this.track(s, tp, rec.offset);
      if (s.hasId(ev.event_id)) {
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
    if (tp.lastOffset < 0 && tp.nextFromRestore === null) firstRead(ps, tp.index, offset);
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
    this.lastPs = null;
    for (const p of parts) {
      const ps = this.parts.get(p);
      if (ps) partitionCheckpoints(ps, this.replayMs, res);
    }
    return res;
  }

  // ---- internals ---------------------------------------------------------------------------

  private partitionOf(partition: number): PartitionState {
    let ps = this.parts.get(partition);
    if (!ps) {
      ps = newPartitionState(partition, this.topicsIn);
      ps.snapshots.push(snapshotNow(ps));
      this.parts.set(partition, ps);
    }
    return ps;
  }

  private track(s: Session, tp: TopicProgress, offset: number): void {
    const i = tp.index;
    if (s.firstOff[i]! >= 0) return;
    // Only the first offset per topic holds back the commit position; later ones are higher.
    s.firstOff[i] = offset;
    tp.firsts.push(offset, s);
  }

  private add(s: Session, rec: SessionRecord, ts: number): void {
    const held: Held = { rec, ts, id: rec.event.event_id, rev: 0 };
    switch (rec.event.type) {
      case 'recommend':
        s.a = held;
        break;
      case 'paraphrase':
        s.bs = addSorted(s.bs, held);
        break;
      case 'selection':
        s.cs = addSorted(s.cs, held);
        break;
    }
    s.noteAdded(held);
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
    const tps = ps.topicList;
    for (let i = 0; i < tps.length; i++) if (tps[i]!.maxTs < m) m = tps[i]!.maxTs;
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
      if (!sameAsEmitted(s, windowEnd)) this.emit(s, contentBefore(s, windowEnd), 'window');
      // With no event at or after the window end, the whole content is what was just compared
      // (and is now emitted): nothing more to emit.
      if (anyFrom(s, windowEnd)) this.maybeEmitComplete(s);
      this.schedule(s);
    } else if (s.status === 'closed') {
      const all = Number.POSITIVE_INFINITY;
      if (!sameAsEmitted(s, all)) this.emit(s, contentBefore(s, all), 'grace');
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
    // An event that was part of an emitted revision is never dead-lettered afterwards.
    if (s.a && s.a.ts >= limit && s.a.rev === 0) {
      why ??= beyondWhy(limit);
      this.dead(s.a.rec, 'beyond_grace', why);
      s.forget(s.a);
      s.a = null;
    }
    for (let l = 0; l < 2; l++) {
      const list = l === 0 ? s.bs : s.cs;
      // Sorted by time: only a tail can lie beyond the limit.
      for (let i = list.length - 1; i >= 0 && list[i]!.ts >= limit; i--) {
        if (list[i]!.rev === 0) {
          why ??= beyondWhy(limit);
          this.dead(list[i]!.rec, 'beyond_grace', why);
          s.forget(list[i]!);
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
    if (!sameAsEmitted(s, limit)) {
      this.emit(s, contentBefore(s, limit), s.status === 'open' ? 'complete' : 'grace');
    }
  }

  private emit(s: Session, c: Content, closedBy: TrainingExample['closed_by']): void {
    const rev = s.revision + 1;
    s.revision = rev;
    // Mark this revision's events: they are the last emission now (see `sameAsEmitted`).
    if (c.a) c.a.rev = rev;
    for (let i = 0; i < c.bs.length; i++) c.bs[i]!.rev = rev;
    for (let i = 0; i < c.cs.length; i++) c.cs[i]!.rev = rev;
    s.emittedCount = (c.a ? 1 : 0) + c.bs.length + c.cs.length;
    const late = closedBy === 'grace' && hasLate(c, s.anchor + this.windowMs);
    if (this.allRepeated(s.ps, c)) return;
    this.out.examples.push(buildExample(s.id, rev, c, closedBy, late, this.gapMs));
  }

  /** Whether every event of this content was processed, and so emitted, before the restore. */
  private allRepeated(ps: PartitionState, c: Content): boolean {
    if (ps.resume === null) return false;
    const at = this.deadlineNow ?? ps.wm;
    const rep = (h: Held) => repeated(ps, ps.topics.get(h.rec.topic)!.index, h.rec.offset, at);
    return (c.a === null || rep(c.a)) && c.bs.every(rep) && c.cs.every(rep);
  }

  private dead(rec: SessionRecord, code: DeadLetterCode, reason: string): void {
    const ps = this.parts.get(rec.partition);
    const tp = ps?.topics.get(rec.topic);
    if (ps && tp && repeated(ps, tp.index, rec.offset, this.deadlineNow ?? ps.wm)) return;
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

function beyondWhy(limit: number): string {
  return `event time is after the session's window and grace (${isoTime(limit)})`;
}
