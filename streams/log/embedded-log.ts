import { Observable } from 'rxjs';
import type {
  CommittedOffset,
  ConsumerOptions,
  Delivery,
  EventLog,
  LogConsumer,
  LogMessage,
  LogRecord,
  SourceEvent,
  TopicPartition,
  TopicSpec,
} from './event-log.ts';
import { partitionForKey } from './murmur2.ts';

export interface EmbeddedLogOptions {
  /** Append-time clock (default Date.now). */
  readonly clock?: () => number;
  /** While caught up, repeat the idle delivery this often (default 1000 ms). */
  readonly idleIntervalMs?: number;
  /** Cap on records kept per partition; older ones are dropped as Kafka retention would (default unlimited). */
  readonly retainPerPartition?: number;
  /**
   * Retention by age (`LOG_RETENTION_MS` of `npm start`; default unlimited): a record is dropped
   * once it is older than this by the log's clock AND every consumer group that reads its topic has
   * committed past it, so no group ever misses a record and a replay from a commit still finds
   * everything after it. A topic no group reads yet keeps everything.
   */
  readonly retentionMs?: number;
  /** How often (log clock) an append sweeps by age (default a quarter of retentionMs, at most 60 s). */
  readonly sweepIntervalMs?: number;
}

interface Partition {
  /** Offset of records[0] (grows when retention drops old records). */
  base: number;
  /** null: a record erased in place (its offset stays, as after Kafka compaction). */
  records: (LogRecord | null)[];
}

interface Member {
  readonly id: number;
  readonly topics: readonly string[];
}

interface Group {
  generation: number;
  members: Member[];
  readonly committed: Map<string, CommittedOffset>;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The offset after the last record not erased (the end, when nothing at the end was erased). */
function liveEnd(p: Partition): number {
  let n = p.records.length;
  while (n > 0 && p.records[n - 1] === null) n--;
  return p.base + n;
}

/**
 * An in-process partitioned log with Kafka's semantics where the topology relies on them: keyed
 * partitioning (murmur2, as Kafka), per-partition offsets, consumer groups with range assignment,
 * rebalancing when members come and go, committed offsets with metadata, and replay from them.
 */
export class EmbeddedLog implements EventLog {
  private readonly topics = new Map<string, Partition[]>();
  private readonly groups = new Map<string, Group>();
  private waiters: (() => void)[] = [];
  private nextMember = 1;
  private roundRobin = 0;
  private readonly clock: () => number;
  private readonly idleIntervalMs: number;
  private readonly retain: number;
  private retentionMs: number;
  private sweepMs: number;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(opts: EmbeddedLogOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.idleIntervalMs = opts.idleIntervalMs ?? 1000;
    this.retain = opts.retainPerPartition ?? Number.POSITIVE_INFINITY;
    this.retentionMs = Number.POSITIVE_INFINITY;
    this.sweepMs = Number.POSITIVE_INFINITY;
    this.setRetention(opts.retentionMs ?? Number.POSITIVE_INFINITY, opts.sweepIntervalMs);
  }

  /**
   * Sets the retention by age (see `EmbeddedLogOptions.retentionMs`) from now on: the embedded
   * wheel keeps everything while it simulates (the evaluation reads the whole log) and bounds the
   * log once it serves live traffic.
   */
  setRetention(retentionMs: number, sweepIntervalMs?: number): void {
    if (!(retentionMs >= 0)) throw new Error('retentionMs must be >= 0');
    this.retentionMs = retentionMs;
    this.sweepMs = sweepIntervalMs ?? Math.min(retentionMs / 4, 60_000);
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const s of specs) {
      const existing = this.topics.get(s.topic);
      if (existing) {
        if (existing.length !== s.partitions) {
          throw new Error(`topic ${s.topic} exists with ${existing.length} partitions, not ${s.partitions}`);
        }
        continue;
      }
      if (!(s.partitions >= 1)) throw new Error(`topic ${s.topic}: partitions must be >= 1`);
      this.topics.set(
        s.topic,
        Array.from({ length: s.partitions }, () => ({ base: 0, records: [] })),
      );
    }
    this.wake();
  }

  partitionCount(topic: string): number {
    return this.topic(topic).length;
  }

  async send(topic: string, messages: readonly LogMessage[]): Promise<void> {
    this.appendSync(topic, messages);
  }

  /** Synchronous append, for callers (tests, the simulator) that produce in a tight loop. */
  appendSync(topic: string, messages: readonly LogMessage[]): { partition: number; offset: number }[] {
    if (this.closed) throw new Error('EmbeddedLog is closed');
    const parts = this.topic(topic);
    const now = this.clock();
    const out: { partition: number; offset: number }[] = [];
    for (const m of messages) {
      const partition =
        m.key === null ? this.roundRobin++ % parts.length : partitionForKey(m.key, parts.length);
      const p = parts[partition]!;
      const offset = p.base + p.records.length;
      p.records.push({ ...m, topic, partition, offset, timestamp: now });
      if (p.records.length > this.retain) {
        const drop = p.records.length - this.retain;
        p.records.splice(0, drop);
        p.base += drop;
      }
      out.push({ partition, offset });
    }
    if (Number.isFinite(this.retentionMs) && now - this.lastSweep >= this.sweepMs) this.sweep();
    this.wake();
    return out;
  }

  /** Every record of a topic, partition by partition (for tests and reports). */
  read(topic: string): LogRecord[] {
    return this.topic(topic).flatMap((p) => p.records.filter((r): r is LogRecord => r !== null));
  }

  /** Records held across every topic (erased ones not counted): what retention bounds. */
  retainedCount(): number {
    let n = 0;
    for (const parts of this.topics.values())
      for (const p of parts) for (const r of p.records) if (r !== null) n++;
    return n;
  }

  /**
   * Removes the records `matches` picks (erasure), in place: their offsets stay, as after Kafka
   * compaction, so committed positions and lag are unchanged and consumers skip the gap. Returns
   * how many were removed.
   */
  eraseWhere(matches: (r: LogRecord) => boolean, topics?: readonly string[]): number {
    let n = 0;
    for (const [name, parts] of this.topics) {
      if (topics && !topics.includes(name)) continue;
      for (const p of parts)
        p.records.forEach((r, i) => {
          if (r !== null && matches(r)) {
            p.records[i] = null;
            n++;
          }
        });
    }
    return n;
  }

  /**
   * The retention rule (runs on append every `sweepIntervalMs`; callable directly): per partition,
   * drops from the head every record that every group reading the topic has committed past and
   * that is older than `retentionMs` (erased gaps below the commits go too). Returns how many
   * records were dropped.
   */
  sweep(): number {
    const now = this.clock();
    this.lastSweep = now;
    const cutoff = now - this.retentionMs;
    let dropped = 0;
    for (const [topic, parts] of this.topics) {
      const readers = [...this.groups.values()].filter(
        (g) =>
          g.members.some((m) => m.topics.includes(topic)) ||
          [...g.committed.values()].some((c) => c.topic === topic),
      );
      if (readers.length === 0) continue; // nobody has committed past anything here yet
      parts.forEach((p, partition) => {
        let safe = Number.POSITIVE_INFINITY;
        for (const g of readers)
          safe = Math.min(safe, g.committed.get(tpKey(topic, partition))?.offset ?? p.base);
        let drop = 0;
        while (drop < p.records.length && p.base + drop < safe) {
          const r = p.records[drop]!;
          if (r !== null && !(r.timestamp <= cutoff)) break;
          drop++;
        }
        if (drop > 0) {
          p.records.splice(0, drop);
          p.base += drop;
          dropped += drop;
        }
      });
    }
    return dropped;
  }

  endOffsets(topic: string): number[] {
    return this.topic(topic).map((p) => p.base + p.records.length);
  }

  async topicEnds(topics: readonly string[]): Promise<CommittedOffset[]> {
    // Erased records at the end of a partition are never delivered, so no group commits past
    // them: the end a lag is measured against is the one after the last record still there.
    return topics.flatMap((topic) =>
      this.topic(topic).map((p, partition) => ({ topic, partition, offset: liveEnd(p), metadata: null })),
    );
  }

  committed(groupId: string): CommittedOffset[] {
    return [...(this.groups.get(groupId)?.committed.values() ?? [])];
  }

  /** Records after the group's committed offsets (the consumer lag), summed over partitions. */
  lag(groupId: string, topics: readonly string[]): number {
    const g = this.groups.get(groupId);
    let lag = 0;
    for (const t of topics) {
      this.topic(t).forEach((p, partition) => {
        const c = g?.committed.get(tpKey(t, partition))?.offset ?? p.base;
        for (let i = Math.max(0, c - p.base); i < p.records.length; i++) if (p.records[i] !== null) lag++;
      });
    }
    return lag;
  }

  consumer(opts: ConsumerOptions): LogConsumer {
    for (const t of opts.topics) this.topic(t);
    const group = this.group(opts.groupId);
    return {
      deliveries$: new Observable<Delivery>((subscriber) => {
        const member: Member = { id: this.nextMember++, topics: opts.topics };
        group.members.push(member);
        group.generation++;
        this.wake();
        let stopped = false;
        const run = async () => {
          let generation = -1;
          let owned: TopicPartition[] = [];
          const positions = new Map<string, number>();
          let cursor = 0;
          let idleSent = false;
          const deliver = (event: SourceEvent) =>
            new Promise<void>((resolve) => {
              if (stopped) return resolve();
              subscriber.next({ event, ack: resolve });
            });
          while (!stopped && !this.closed) {
            if (group.generation !== generation) {
              generation = group.generation;
              const mine = this.assignment(group, member);
              const mineKeys = new Set(mine.map((tp) => tpKey(tp.topic, tp.partition)));
              const revoked = owned.filter((tp) => !mineKeys.has(tpKey(tp.topic, tp.partition)));
              const ownedKeys = new Set(owned.map((tp) => tpKey(tp.topic, tp.partition)));
              const added = mine.filter((tp) => !ownedKeys.has(tpKey(tp.topic, tp.partition)));
              owned = mine;
              if (revoked.length > 0) {
                for (const tp of revoked) positions.delete(tpKey(tp.topic, tp.partition));
                await deliver({ kind: 'revoked', partitions: revoked });
              }
              if (added.length > 0) {
                const partitions = added.map((tp) => {
                  const committed = group.committed.get(tpKey(tp.topic, tp.partition)) ?? null;
                  const p = this.topic(tp.topic)[tp.partition]!;
                  const start = committed
                    ? Math.max(committed.offset, p.base)
                    : opts.fromBeginning === false
                      ? p.base + p.records.length
                      : p.base;
                  positions.set(tpKey(tp.topic, tp.partition), start);
                  return { ...tp, committed };
                });
                await deliver({ kind: 'assigned', partitions });
              }
              idleSent = false;
              continue;
            }
            // Round-robin over owned partitions with data, one batch at a time.
            let fetched = false;
            for (let i = 0; i < owned.length && !fetched; i++) {
              const tp = owned[(cursor + i) % owned.length]!;
              const key = tpKey(tp.topic, tp.partition);
              const p = this.topic(tp.topic)[tp.partition]!;
              const pos = Math.max(positions.get(key) ?? p.base, p.base);
              const end = p.base + p.records.length;
              if (pos >= end) continue;
              const n = Math.min(opts.maxBatchSize ?? 500, end - pos);
              const records = p.records
                .slice(pos - p.base, pos - p.base + n)
                .filter((r): r is LogRecord => r !== null);
              positions.set(key, pos + n);
              cursor = (cursor + i + 1) % Math.max(owned.length, 1);
              fetched = true;
              idleSent = false;
              if (records.length === 0) continue; // only erased records: nothing to deliver
              await deliver({
                kind: 'batch',
                topic: tp.topic,
                partition: tp.partition,
                records,
                highWatermark: liveEnd(p),
              });
            }
            if (fetched) continue;
            if (!idleSent) {
              idleSent = true;
              await deliver({ kind: 'idle', partitions: owned, at: this.clock() });
              continue;
            }
            const woke = await this.waitForChange(this.idleIntervalMs);
            if (!woke) idleSent = false; // repeat the idle signal so time keeps moving while quiet
          }
        };
        run().catch((err) => subscriber.error(err));
        return () => {
          stopped = true;
          const i = group.members.indexOf(member);
          if (i >= 0) group.members.splice(i, 1);
          group.generation++;
          this.wake();
        };
      }),
      commit: async (offsets) => {
        for (const o of offsets) {
          this.topic(o.topic)[o.partition]; // validates the topic exists
          group.committed.set(tpKey(o.topic, o.partition), { ...o });
        }
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
  }

  private topic(name: string): Partition[] {
    const t = this.topics.get(name);
    if (!t) throw new Error(`unknown topic ${name}: create it with ensureTopics first`);
    return t;
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      g = { generation: 0, members: [], committed: new Map() };
      this.groups.set(id, g);
    }
    return g;
  }

  /** Range assignment per partition number, so co-partitioned topics go to the same member. */
  private assignment(group: Group, member: Member): TopicPartition[] {
    const members = [...group.members].sort((a, b) => a.id - b.id);
    const idx = members.indexOf(member);
    if (idx < 0) return [];
    const res: TopicPartition[] = [];
    for (const topic of member.topics) {
      const n = this.topic(topic).length;
      const subscribers = members.filter((m) => m.topics.includes(topic));
      const me = subscribers.indexOf(member);
      const per = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      const start = me * per + Math.min(me, extra);
      const count = per + (me < extra ? 1 : 0);
      for (let p = start; p < start + count; p++) res.push({ topic, partition: p });
    }
    return res;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitForChange(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((f) => f !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }
}
