import { concatMap, map, type Subscription } from 'rxjs';
import type { VectorIndex } from '../api/vector/vector-index.ts';
import type { DeadLetter, TopicNames, TrainingExample, UserProfile } from '../schemas/index.ts';
import { DEFAULT_VOCABULARY, type OptionVocabulary } from '../schemas/index.ts';
import { type ReclusterInput, type ReclusterResult, recluster } from './clustering/cluster-profiles.ts';
import { type EventSerde, jsonSerde } from './codec/serde.ts';
import {
  checkpointFromCommit,
  checkpointMetadata,
  type DecodedValue,
  decodeExample,
  decodeSessionRecord,
  encodeDeadLetter,
  encodeExample,
  isDeadLetter,
} from './codec/session-codec.ts';
import type { Embedder } from './embeddings/embedder.ts';
import type { CommittedOffset, Delivery, EventLog, LogConsumer, LogRecord } from './log/event-log.ts';
import { type JoinBatch, joinBySession } from './operators/join-by-session.ts';
import { evolveProfile, type ProfileInput } from './reducers/evolve-profile.ts';
import { contextPointsFromExamples } from './sinks/context-points.ts';
import type { JoinCheckpoint, SessionRecord } from './state/session-join.ts';
import type { ClusterStore, ExampleStore, ProfileStore } from './stores/profile-store.ts';

export interface TopologyDeps {
  readonly log: EventLog;
  readonly profiles: ProfileStore;
  readonly clusters: ClusterStore;
  readonly examples?: ExampleStore;
  /** Nearest-past-contexts index fed from high-consistency H (P_vec reads it). */
  readonly index?: VectorIndex;
  readonly embedder: Embedder;
  /** Processing-time clock for idle watermark ticks (the simulator passes its virtual clock). */
  readonly clock: () => number;
  readonly onError?: (err: unknown) => void;
  /** Told about each failed I/O call that will be retried. */
  readonly onRetry?: (what: string, err: unknown, attempt: number) => void;
  /** Re-clustering implementation (default: in the calling thread). */
  readonly reclusterer?: (input: ReclusterInput) => Promise<ReclusterResult>;
  /**
   * Bytes ↔ values of A/B/C and H (default jsonSerde: plain JSON, decoded synchronously). Any
   * other serde decodes each delivery in an async step before the join, in delivery order.
   */
  readonly serde?: EventSerde;
}

export interface TopologyConfig {
  readonly topics: TopicNames;
  readonly sessionPartitions: number;
  readonly trainingPartitions: number;
  readonly joinGroup: string;
  readonly profileGroup: string;
  readonly windowMs: number;
  readonly graceMs: number;
  readonly tombstoneMs?: number;
  readonly plausibleGapMs?: number;
  /** Event time a replay re-reads before the oldest live session (SessionJoin's `replayMs`). */
  readonly replayMs?: number;
  /**
   * While a partition is caught up, its event time is taken to move on at the clock's pace from
   * the newest event seen, after a pause of idleLagMs (for slow producers): sessions close even
   * when traffic stops, and producers whose clocks are off still get their whole window.
   */
  readonly idleLagMs: number;
  readonly maxEventBytes: number;
  readonly maxBatchSize: number;
  readonly recluster: {
    readonly k: number;
    readonly seed: number;
    /** Re-cluster after this many profile updates (0 = never automatically). */
    readonly everyUpdates: number;
    readonly vocabulary?: OptionVocabulary;
  };
}

export interface JoinStats {
  records: number;
  examples: number;
  deadLetters: number;
  deadLettersByCode: Record<string, number>;
  batches: number;
}

export interface ProfileStats {
  examples: number;
  profileWrites: number;
  reclusters: number;
  lastRecluster: { users: number; clusters: number; ts: string } | null;
}

export interface Running<S> {
  readonly stats: S;
  /** Stop consuming; the in-flight batch finishes its sinks and commit first. */
  stop(): Promise<void>;
  /** Die at once, like kill -9: the in-flight batch does no further I/O (tests use this). */
  kill(): void;
}

class Killed extends Error {
  constructor() {
    super('processor killed');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wraps each I/O step: a failed call is retried with capped exponential backoff (a broker or Redis
 * restart stalls the processor instead of killing it), and once the processor is killed nothing
 * more reaches the outside.
 */
function killSwitch(onRetry?: (what: string, err: unknown, attempt: number) => void) {
  let dead = false;
  return {
    kill: () => {
      dead = true;
    },
    io: async <T>(f: () => Promise<T>, what = 'io', maxAttempts = Number.POSITIVE_INFINITY): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        if (dead) throw new Killed();
        try {
          const r = await f();
          if (dead) throw new Killed();
          return r;
        } catch (err) {
          if (err instanceof Killed || dead || attempt >= maxAttempts) throw err;
          onRetry?.(what, err, attempt);
          await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
        }
      }
    },
    get dead() {
      return dead;
    },
  };
}

interface Token {
  readonly delivery: Delivery;
  readonly decodeDead: readonly DeadLetter[];
}

/** All the topics the topology uses, with their partition counts. */
export function topicSpecs(cfg: TopologyConfig) {
  return [
    { topic: cfg.topics.recommend, partitions: cfg.sessionPartitions },
    { topic: cfg.topics.paraphrase, partitions: cfg.sessionPartitions },
    { topic: cfg.topics.selection, partitions: cfg.sessionPartitions },
    { topic: cfg.topics.trainingExamples, partitions: cfg.trainingPartitions },
    { topic: cfg.topics.deadLetter, partitions: 1 },
  ];
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
  cfg: TopologyConfig,
  clock: () => number,
  idle: IdleTime = new IdleTime(),
  values?: readonly (DecodedValue | undefined)[],
): JoinBatch<Token> {
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

function originalKey(d: DeadLetter): string | null {
  return d.recommend_session_id;
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

/**
 * The session-join processor: A/B/C topics → decode → joinBySession → H topic (keyed by user_id)
 * and dead-letter topic → commit the join's checkpoints → ack. One batch at a time, so a commit
 * always follows the sinks of everything before it.
 */
export function startJoinProcessor(deps: TopologyDeps, cfg: TopologyConfig): Running<JoinStats> {
  const stats: JoinStats = { records: 0, examples: 0, deadLetters: 0, deadLettersByCode: {}, batches: 0 };
  const consumer = deps.log.consumer({
    groupId: cfg.joinGroup,
    topics: [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection],
    maxBatchSize: cfg.maxBatchSize,
  });
  const ks = killSwitch(deps.onRetry);
  const idle = new IdleTime();
  const serde = deps.serde === jsonSerde ? undefined : deps.serde;
  let current: Promise<void> = Promise.resolve();
  // With a serde, decoding is async: one step per delivery, in order, so the join still sees one
  // batch per delivery; an unreachable registry is retried (the processor stalls, like a broker).
  const batches$ = serde
    ? consumer.deliveries$.pipe(
        concatMap(async (d) => {
          const values = await ks.io(() => decodeDelivery(serde, d, cfg.maxEventBytes), 'decode');
          return toJoinBatch(d, cfg, deps.clock, idle, values);
        }),
      )
    : consumer.deliveries$.pipe(map((d) => toJoinBatch(d, cfg, deps.clock, idle)));
  const sub: Subscription = batches$
    .pipe(
      joinBySession<Token>({
        inputTopics: [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection],
        windowMs: cfg.windowMs,
        graceMs: cfg.graceMs,
        tombstoneMs: cfg.tombstoneMs,
        plausibleGapMs: cfg.plausibleGapMs,
        replayMs: cfg.replayMs,
      }),
      concatMap((r) => {
        const step = (async () => {
          const dead = [...(r.token?.decodeDead ?? []), ...r.deadLetters];
          if (r.examples.length > 0) {
            const h = cfg.topics.trainingExamples;
            const messages = serde
              ? await ks.io(
                  () => Promise.all(r.examples.map(async (x) => encodeExample(x, await serde.encode(h, x)))),
                  'encode H',
                )
              : r.examples.map((x) => encodeExample(x));
            await ks.io(() => deps.log.send(h, messages), 'send H');
          }
          if (dead.length > 0) {
            await ks.io(
              () =>
                deps.log.send(
                  cfg.topics.deadLetter,
                  dead.map((x) => encodeDeadLetter(x, originalKey(x))),
                ),
              'send dead letters',
            );
          }
          if (r.checkpoints.length > 0) {
            await commitSafely(
              ks,
              consumer,
              r.checkpoints.map(
                (cp): CommittedOffset => ({
                  topic: cp.topic,
                  partition: cp.partition,
                  offset: cp.offset,
                  metadata: checkpointMetadata(cp),
                }),
              ),
              deps.onRetry,
            );
          }
          if (r.token?.delivery.event.kind === 'batch')
            stats.records += r.token.delivery.event.records.length;
          stats.batches += 1;
          stats.examples += r.examples.length;
          stats.deadLetters += dead.length;
          for (const x of dead) stats.deadLettersByCode[x.code] = (stats.deadLettersByCode[x.code] ?? 0) + 1;
          r.token?.delivery.ack();
        })();
        current = step.catch(() => {});
        return step;
      }),
    )
    .subscribe({ error: (err) => (err instanceof Killed ? undefined : deps.onError?.(err)) });
  return {
    stats,
    async stop() {
      await current;
      sub.unsubscribe();
    },
    kill() {
      ks.kill();
      sub.unsubscribe();
    },
  };
}

/** Folds a batch of H into profiles: pure, given the profiles it touches. Returns the changed ones. */
export function foldProfiles(
  current: ReadonlyMap<string, UserProfile | null>,
  inputs: readonly ProfileInput[],
): Map<string, UserProfile> {
  const work = new Map(current);
  const changed = new Map<string, UserProfile>();
  for (const input of inputs) {
    const before = work.get(input.example.user_id) ?? null;
    const after = evolveProfile(before, input);
    if (after !== before) {
      work.set(after.user_id, after);
      changed.set(after.user_id, after);
    }
  }
  return changed;
}

/**
 * The profile processor: H topic → embed contexts → fold into G (ProfileStore) → archive H →
 * commit → ack; every `recluster.everyUpdates` profile updates it re-clusters users into J.
 */
export function startProfileProcessor(
  deps: TopologyDeps,
  cfg: TopologyConfig,
): Running<ProfileStats> & {
  reclusterNow(): Promise<void>;
} {
  const stats: ProfileStats = { examples: 0, profileWrites: 0, reclusters: 0, lastRecluster: null };
  const consumer = deps.log.consumer({
    groupId: cfg.profileGroup,
    topics: [cfg.topics.trainingExamples],
    maxBatchSize: cfg.maxBatchSize,
  });
  const ks = killSwitch(deps.onRetry);
  let sinceRecluster = 0;
  let latestTs: string | null = null;
  let reclustering: Promise<void> | null = null;
  const runRecluster = deps.reclusterer ?? (async (input: ReclusterInput) => recluster(input));
  const reclusterOnce = async () => {
    sinceRecluster = 0;
    const all: UserProfile[] = [];
    await ks.io(async () => {
      all.length = 0;
      for await (const page of deps.profiles.scan()) all.push(...page);
    }, 'scan profiles');
    const res = await runRecluster({
      profiles: all,
      k: cfg.recluster.k,
      seed: cfg.recluster.seed,
      vocabulary: cfg.recluster.vocabulary ?? DEFAULT_VOCABULARY,
      embeddingDim: deps.embedder.dim,
      ts: latestTs ?? new Date(0).toISOString(),
      version: stats.reclusters + 1,
    });
    await ks.io(() => deps.clusters.replace(res.clusters, res.assignments), 'write clusters');
    stats.reclusters += 1;
    stats.lastRecluster = { users: res.assignments.size, clusters: res.clusters.length, ts: latestTs ?? '' };
  };
  /** One re-clustering at a time; a request while one runs joins it. */
  const reclusterNow = (): Promise<void> => {
    if (!reclustering) {
      reclustering = reclusterOnce().finally(() => {
        reclustering = null;
      });
    }
    return reclustering;
  };
  let current: Promise<void> = Promise.resolve();
  const sub = consumer.deliveries$
    .pipe(
      concatMap((d) => {
        const step = (async () => {
          const ev = d.event;
          if (ev.kind === 'batch' && ev.records.length > 0) {
            await applyExamples(deps, cfg, ev.records, stats, ks.io, (ts) => {
              if (latestTs === null || ts > latestTs) latestTs = ts;
            });
            const last = ev.records[ev.records.length - 1]!;
            await commitSafely(
              ks,
              consumer,
              [{ topic: ev.topic, partition: ev.partition, offset: last.offset + 1, metadata: null }],
              deps.onRetry,
            );
            sinceRecluster += ev.records.length;
            // In the background: profile updates keep flowing while users are re-clustered.
            if (cfg.recluster.everyUpdates > 0 && sinceRecluster >= cfg.recluster.everyUpdates) {
              reclusterNow().catch((err) => (err instanceof Killed ? undefined : deps.onError?.(err)));
            }
          }
          d.ack();
        })();
        current = step.catch(() => {});
        return step;
      }),
    )
    .subscribe({ error: (err) => (err instanceof Killed ? undefined : deps.onError?.(err)) });
  return {
    stats,
    reclusterNow,
    async stop() {
      await current;
      sub.unsubscribe();
    },
    kill() {
      ks.kill();
      sub.unsubscribe();
    },
  };
}

/**
 * A commit that fails after a few tries is skipped, not fatal: the offsets are only a restart
 * position, the next batch commits newer ones, and a failure here usually means a rebalance took
 * the partition away (its new owner resumes from the last good commit, and sinks are idempotent).
 */
async function commitSafely(
  ks: ReturnType<typeof killSwitch>,
  consumer: LogConsumer,
  offsets: readonly CommittedOffset[],
  onRetry?: (what: string, err: unknown, attempt: number) => void,
): Promise<void> {
  try {
    await ks.io(() => consumer.commit(offsets), 'commit', 3);
  } catch (err) {
    if (err instanceof Killed) throw err;
    onRetry?.('commit (skipped)', err, 3);
  }
}

async function applyExamples(
  deps: TopologyDeps,
  cfg: TopologyConfig,
  records: readonly LogRecord[],
  stats: ProfileStats,
  io: <T>(f: () => Promise<T>, what?: string) => Promise<T>,
  seenTs: (ts: string) => void,
): Promise<void> {
  const examples: { h: TrainingExample; rec: LogRecord }[] = [];
  const dead: DeadLetter[] = [];
  for (const rec of records) {
    const h = decodeExample(rec);
    if ('code' in h) dead.push(h);
    else examples.push({ h, rec });
  }
  if (dead.length > 0)
    await io(() =>
      deps.log.send(
        cfg.topics.deadLetter,
        dead.map((x) => encodeDeadLetter(x, null)),
      ),
    );
  if (examples.length === 0) return;
  const texts = [...new Set(examples.flatMap(({ h }) => (h.context ? [h.context.text] : [])))];
  const vectors = texts.length > 0 ? await io(() => deps.embedder.embed(texts), 'embed') : [];
  const byText = new Map(texts.map((t, i) => [t, vectors[i]!]));
  const users = [...new Set(examples.map(({ h }) => h.user_id))];
  const loaded = await io(() => deps.profiles.getMany(users), 'read profiles');
  const current = new Map(users.map((u, i) => [u, loaded[i] ?? null]));
  const inputs: ProfileInput[] = examples.map(({ h, rec }) => {
    seenTs(h.ts);
    return {
      example: h,
      embedding: h.context ? (byText.get(h.context.text) ?? null) : null,
      partition: rec.partition,
      offset: rec.offset,
    };
  });
  const changed = foldProfiles(current, inputs);
  if (changed.size > 0) await io(() => deps.profiles.putMany([...changed.values()]), 'write profiles');
  const archive = deps.examples;
  if (archive) await io(() => archive.upsertMany(examples.map(({ h }) => h)), 'archive H');
  const index = deps.index;
  if (index) {
    const { upserts, deletes } = contextPointsFromExamples(
      examples.map(({ h }) => h),
      (h) => (h.context ? byText.get(h.context.text) : null),
    );
    if (deletes.length > 0) await io(() => index.delete(deletes), 'index delete');
    if (upserts.length > 0) await io(() => index.upsert(upserts), 'index upsert');
  }
  stats.examples += examples.length;
  stats.profileWrites += changed.size;
}
