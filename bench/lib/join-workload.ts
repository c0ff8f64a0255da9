/**
 * The session-join workload shared by the join benchmarks: synthetic A/B/C traffic (the default
 * session mix of simulator/synthetic-sessions.ts: 60 % complete, the rest spread over the nine
 * edge cases), placed on partitions exactly as Kafka's default partitioner would (murmur2 of
 * recommend_session_id), with per topic-partition offsets, then cut into deliveries the way a
 * consumer hands them over: each delivery is one topic-partition's records.
 */
import { DEFAULT_TOPICS, type SessionEvent, type TopicNames, topicForEvent } from '../../schemas/index.ts';
import { partitionForKey } from '../../streams/log/murmur2.ts';
import type { SessionRecord } from '../../streams/state/session-join.ts';
import { syntheticTraffic } from '../../test/fixtures/synthetic-sessions.ts';

export const WINDOW_MS = 30 * 60_000;
export const GRACE_MS = 10 * 60_000;
export const START_MS = Date.parse('2026-01-01T00:00:00Z');

export interface WorkloadOptions {
  readonly sessions: number;
  readonly users: number;
  readonly seed: number;
  /** Event-time gap between session starts (ms): sets how many sessions are held at once. */
  readonly spacingMs: number;
  readonly partitions: number;
  readonly topics?: TopicNames;
  /** Share of happy-path sessions (default: the simulator's 0.6; 1 = no edge cases at all). */
  readonly completeShare?: number;
}

/** Assigns partitions and offsets to events in append order. */
export class Placer {
  private readonly next = new Map<string, number>();
  constructor(
    private readonly partitions: number,
    private readonly topics: TopicNames = DEFAULT_TOPICS,
  ) {}

  place(e: SessionEvent): SessionRecord {
    const topic = topicForEvent(this.topics, e.type);
    const partition = partitionForKey(e.recommend_session_id, this.partitions);
    const key = `${topic}:${partition}`;
    const offset = this.next.get(key) ?? 0;
    this.next.set(key, offset + 1);
    return { topic, partition, offset, event: e };
  }

  /** The next offset of a topic-partition (= records placed there so far). */
  nextOffset(topic: string, partition: number): number {
    return this.next.get(`${topic}:${partition}`) ?? 0;
  }
}

/**
 * Cuts records (in append order) into consumer-like deliveries: every `chunk` records are split
 * by topic-partition, so each delivery holds one topic-partition's records, about
 * chunk / (3 × partitions) of them, and all topics progress through event time together.
 */
export function toDeliveries(records: readonly SessionRecord[], chunk: number): SessionRecord[][] {
  const out: SessionRecord[][] = [];
  for (let i = 0; i < records.length; i += chunk) {
    const groups = new Map<string, SessionRecord[]>();
    for (const r of records.slice(i, i + chunk)) {
      const k = `${r.topic}:${r.partition}`;
      let g = groups.get(k);
      if (!g) {
        g = [];
        groups.set(k, g);
      }
      g.push(r);
    }
    out.push(...groups.values());
  }
  return out;
}

/** The whole workload at once (throughput benchmark). */
export function joinWorkload(o: WorkloadOptions): SessionRecord[] {
  const placer = new Placer(o.partitions, o.topics);
  return [...steadyTraffic(o)].flat().map((e) => placer.place(e));
}

/**
 * Unbounded-length steady traffic without holding it all: sessions are generated in chunks of
 * `chunkSessions`, and events a chunk schedules past the next chunk's start (late selections,
 * stragglers) are carried over and merged in event-time order, so the stream stays in append order
 * across chunk boundaries. Yields one array of events per chunk of sessions.
 */
export function* steadyTraffic(o: WorkloadOptions, chunkSessions = 10_000): Generator<SessionEvent[]> {
  let carried: { ts: number; e: SessionEvent }[] = [];
  for (let c = 0, done = 0; done < o.sessions; c++) {
    const n = Math.min(chunkSessions, o.sessions - done);
    const startMs = START_MS + done * o.spacingMs;
    const { events } = syntheticTraffic({
      sessions: n,
      users: o.users,
      // Session ids are `sess-<seed>-<i>`: one seed per chunk keeps them unique.
      seed: o.seed * 100_000 + c,
      startMs,
      spacingMs: o.spacingMs,
      windowMs: WINDOW_MS,
      graceMs: GRACE_MS,
      completeShare: o.completeShare,
    });
    done += n;
    const nextStart = START_MS + done * o.spacingMs;
    const merged = carried.concat(events.map((e) => ({ ts: Date.parse(e.ts), e })));
    // Stable: equal times keep their append order, carried events first.
    merged.sort((x, y) => x.ts - y.ts);
    const last = done >= o.sessions;
    const cut = last ? merged.length : lowerBound(merged, nextStart);
    carried = merged.slice(cut);
    yield merged.slice(0, cut).map((x) => x.e);
  }
}

function lowerBound(xs: readonly { ts: number }[], ts: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]!.ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The floor of keyed state (`join_vs_keyed_fold`): each delivery's events into a Map by session
 * id, a session emitted (and its entry deleted) once A, B and C are all there; no time, windows,
 * dead letters or checkpoints. Returns the per-delivery step (→ sessions emitted) with its state.
 */
export function keyedFold(): (records: readonly SessionRecord[]) => number {
  const state = new Map<string, { a: unknown; b: unknown; c: unknown }>();
  return (records) => {
    const out: unknown[] = [];
    for (const r of records) {
      const id = r.event.recommend_session_id;
      let s = state.get(id);
      if (s === undefined) {
        s = { a: null, b: null, c: null };
        state.set(id, s);
      }
      if (r.event.type === 'recommend') s.a = r.event;
      else if (r.event.type === 'paraphrase') s.b = r.event;
      else s.c = r.event;
      if (s.a !== null && s.b !== null && s.c !== null) {
        out.push({ id, a: s.a, b: s.b, c: s.c });
        state.delete(id);
      }
    }
    return out.length;
  };
}
