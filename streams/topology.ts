import { concatMap, map, type Subscription } from 'rxjs';
import type { TopicNames, TrainingExample, UserProfile } from '../schemas/index.ts';
import { DEFAULT_VOCABULARY, type OptionVocabulary } from '../schemas/index.ts';
import { recluster } from './clustering/cluster-profiles.ts';
import {
  checkpointFromCommit,
  checkpointMetadata,
  decodeExample,
  decodeSessionRecord,
  encodeDeadLetter,
  encodeExample,
  isDeadLetter,
} from './codec/session-codec.ts';
import type { Embedder } from './embeddings/embedder.ts';
import type { CommittedOffset, Delivery, EventLog, LogRecord } from './log/event-log.ts';
import { type JoinBatch, joinBySession } from './operators/join-by-session.ts';
import { evolveProfile, type ProfileInput } from './reducers/evolve-profile.ts';
import type { DeadLetter, JoinCheckpoint, SessionRecord } from './state/session-join.ts';
import type { ClusterStore, ExampleStore, ProfileStore } from './stores/profile-store.ts';

export interface TopologyDeps {
  readonly log: EventLog;
  readonly profiles: ProfileStore;
  readonly clusters: ClusterStore;
  readonly examples?: ExampleStore;
  readonly embedder: Embedder;
  /** Processing-time clock for idle watermark ticks (the simulator passes its virtual clock). */
  readonly clock: () => number;
  readonly onError?: (err: unknown) => void;
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
  /** When caught up, event time is assumed to have reached clock() − idleLagMs (producer clock skew). */
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

/** Wraps each I/O step so that nothing more reaches the outside once the processor is killed. */
function killSwitch() {
  let dead = false;
  return {
    kill: () => {
      dead = true;
    },
    io: async <T>(f: () => Promise<T>): Promise<T> => {
      if (dead) throw new Killed();
      const r = await f();
      if (dead) throw new Killed();
      return r;
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

/** Turns one consumer delivery into one join input; decode failures ride along in the token. */
export function toJoinBatch(d: Delivery, cfg: TopologyConfig, clock: () => number): JoinBatch<Token> {
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
      return {
        revoked: [...new Set(ev.partitions.map((p) => p.partition))],
        token: { delivery: d, decodeDead: [] },
      };
    case 'idle': {
      const now = clock() - cfg.idleLagMs;
      return {
        ticks: [...new Set(ev.partitions.map((p) => p.partition))].map((partition) => ({ partition, now })),
        token: { delivery: d, decodeDead: [] },
      };
    }
    case 'batch': {
      const records: SessionRecord[] = [];
      const dead: DeadLetter[] = [];
      for (const r of ev.records) {
        const x = decodeSessionRecord(r, cfg.topics, cfg.maxEventBytes);
        if (isDeadLetter(x)) dead.push(x);
        else records.push(x);
      }
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
  const ks = killSwitch();
  let current: Promise<void> = Promise.resolve();
  const sub: Subscription = consumer.deliveries$
    .pipe(
      map((d) => toJoinBatch(d, cfg, deps.clock)),
      joinBySession<Token>({
        inputTopics: [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection],
        windowMs: cfg.windowMs,
        graceMs: cfg.graceMs,
        tombstoneMs: cfg.tombstoneMs,
        plausibleGapMs: cfg.plausibleGapMs,
      }),
      concatMap((r) => {
        const step = (async () => {
          const dead = [...(r.token?.decodeDead ?? []), ...r.deadLetters];
          if (r.examples.length > 0) {
            await ks.io(() => deps.log.send(cfg.topics.trainingExamples, r.examples.map(encodeExample)));
          }
          if (dead.length > 0) {
            await ks.io(() =>
              deps.log.send(
                cfg.topics.deadLetter,
                dead.map((x) => encodeDeadLetter(x, originalKey(x))),
              ),
            );
          }
          if (r.checkpoints.length > 0) {
            await ks.io(() =>
              consumer.commit(
                r.checkpoints.map(
                  (cp): CommittedOffset => ({
                    topic: cp.topic,
                    partition: cp.partition,
                    offset: cp.offset,
                    metadata: checkpointMetadata(cp),
                  }),
                ),
              ),
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
  const ks = killSwitch();
  let sinceRecluster = 0;
  let latestTs: string | null = null;
  const reclusterNow = async () => {
    const all: UserProfile[] = [];
    for await (const page of deps.profiles.scan()) all.push(...page);
    const res = recluster({
      profiles: all,
      k: cfg.recluster.k,
      seed: cfg.recluster.seed,
      vocabulary: cfg.recluster.vocabulary ?? DEFAULT_VOCABULARY,
      embeddingDim: deps.embedder.dim,
      ts: latestTs ?? new Date(0).toISOString(),
      version: stats.reclusters + 1,
    });
    await deps.clusters.replace(res.clusters, res.assignments);
    stats.reclusters += 1;
    stats.lastRecluster = { users: res.assignments.size, clusters: res.clusters.length, ts: latestTs ?? '' };
    sinceRecluster = 0;
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
            await ks.io(() =>
              consumer.commit([
                { topic: ev.topic, partition: ev.partition, offset: last.offset + 1, metadata: null },
              ]),
            );
            sinceRecluster += ev.records.length;
            if (cfg.recluster.everyUpdates > 0 && sinceRecluster >= cfg.recluster.everyUpdates)
              await reclusterNow();
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

async function applyExamples(
  deps: TopologyDeps,
  cfg: TopologyConfig,
  records: readonly LogRecord[],
  stats: ProfileStats,
  io: <T>(f: () => Promise<T>) => Promise<T>,
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
  const vectors = texts.length > 0 ? await io(() => deps.embedder.embed(texts)) : [];
  const byText = new Map(texts.map((t, i) => [t, vectors[i]!]));
  const users = [...new Set(examples.map(({ h }) => h.user_id))];
  const loaded = await io(() => deps.profiles.getMany(users));
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
  if (changed.size > 0) await io(() => deps.profiles.putMany([...changed.values()]));
  const archive = deps.examples;
  if (archive) await io(() => archive.upsertMany(examples.map(({ h }) => h)));
  stats.examples += examples.length;
  stats.profileWrites += changed.size;
}
