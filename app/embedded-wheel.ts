import { randomBytes } from 'node:crypto';
import type { TokenPrice } from '../analytics/cost.ts';
import { createKpiView } from '../analytics/kpis.ts';
import { type ApiSecurity, createApi } from '../api/app.ts';
import { sha256 } from '../api/auth/keys.ts';
import { createLogEventSink } from '../api/event-sink.ts';
import { createAbRouter } from '../api/paraphrase/ab-router.ts';
import { createOfflineParaphraser } from '../api/paraphrase/offline-paraphraser.ts';
import type { Paraphraser } from '../api/paraphrase/paraphraser.ts';
import { createLogErasurePublisher } from '../api/routes/users.ts';
import { DEFAULT_SCORING_CONFIG, type ScoringConfig } from '../api/scoring/index.ts';
import { createMemoryIdempotencyStore, createMemorySessionRegistry } from '../api/sessions/index.ts';
import type { ReadYourWritesOptions } from '../api/sessions/read-your-writes.ts';
import { newSessionId } from '../api/sessions/session-id.ts';
import { createMemoryVectorIndex } from '../api/vector/memory-vector-index.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { createScheduler } from '../common/scheduler.ts';
import { DEFAULT_VOCABULARY, type OptionVocabulary } from '../schemas/index.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import { createHashingEmbedder } from '../streams/embeddings/hashing-embedder.ts';
import { EmbeddedLog } from '../streams/log/embedded-log.ts';
import type { JoinStats } from '../streams/processors/join-processor.ts';
import { recordOfUser } from '../streams/sinks/erasure-sink.ts';
import { createMemoryMongoPorts } from '../streams/stores/archive-store.ts';
import { createMemoryDocStore } from '../streams/stores/doc-store.ts';
import { createMemoryErasureAuditStore, type ErasureAudit } from '../streams/stores/erasure-audit.ts';
import { createMemoryErasureRegistry } from '../streams/stores/erasure-registry.ts';
import { createMemoryGoldenStore } from '../streams/stores/golden-store.ts';
import {
  type ClusterStore,
  createMemoryClusterStore,
  createMemoryProfileStore,
  type ProfileStore,
} from '../streams/stores/profile-store.ts';
import { DEFAULT_TOPOLOGY_CONFIG, type TopologyConfig, topicSpecs } from '../streams/topology-config.ts';
import { type RunningTopology, startTopology } from '../streams/wiring.ts';
import { examplesInLog, wheelJobs } from './wheel-jobs.ts';

/** How far the simulated clock moves in one settle. */
export const SETTLE_STEP_MS = 24 * 3600_000;

export interface EmbeddedWheelOptions {
  /** false: the API scores with β = 0 and no cluster prior (the evaluation's baseline). */
  readonly personalised?: boolean;
  readonly scoring?: Partial<ScoringConfig>;
  readonly vocabulary?: OptionVocabulary;
  /** Clusters for cold start (default 8). */
  readonly clusters?: number;
  readonly seed?: number;
  readonly embeddingDim?: number;
  /** Event time the simulated clock starts at. */
  readonly startMs?: number;
  /** Deterministic ids for sessions and events (default: random UUIDs). */
  readonly newId?: () => string;
  /** Stand-ins for the stores (tests use failing ones). */
  readonly profiles?: ProfileStore;
  readonly clusterStore?: ClusterStore;
  /** A second paraphrase endpoint: users are split between the offline paraphraser (A) and it (B). */
  readonly paraphraserB?: Paraphraser;
  /** Variant A's paraphraser (default: the offline one), e.g. the local LLM of `--with-models`. */
  readonly paraphraser?: Paraphraser;
  /** The embedder (default: the offline hashing one of embeddingDim), e.g. the OpenAI-compatible one. */
  readonly embedder?: Embedder;
  readonly ready?: () => boolean;
  /** Told of each failed dependency call an answer names only by its kind (ApiDeps.onUpstreamError). */
  readonly onUpstreamError?: (what: string, err: unknown) => void;
  /** The price per 1k tokens the dashboard's A/B panel costs with. */
  readonly price?: TokenPrice;
  /** API keys, rate limits, CORS (absent: open, as `npm start` runs without API_KEYS). */
  readonly security?: ApiSecurity;
  /** How long `/recommend` waits for read-your-writes (default 1.5 s, polling every 50 ms). */
  readonly readYourWrites?: Partial<ReadYourWritesOptions>;
  /** Told of every erasure's audit record (npm start logs it). */
  readonly onErasureAudit?: (a: ErasureAudit) => void;
}

/** The salt of the erased-users hash in the embedded mode (the default topic namespace). */
export const ERASURE_SALT = 'sentencify';

/** The embedded log's retention once live (`LOG_RETENTION_MS` of npm start): 1 h. */
export const DEFAULT_LOG_RETENTION_MS = 3_600_000;

/**
 * The whole wheel in one process on embedded defaults: the event log, the session join, the
 * profile fold (feeding the vector index and the cluster re-computation) and the API over the same
 * stores. Its clock is simulated, so a driver decides when time passes.
 *
 * `settle()` lets the stream catch up: it runs the processors until every event so far is joined,
 * folded and indexed, re-clusters, and stops them again. Between settles the views do not change,
 * which is what makes a seeded simulation reproducible.
 */
export async function createEmbeddedWheel(o: EmbeddedWheelOptions = {}) {
  let now = o.startMs ?? Date.parse('2026-01-05T09:00:00Z');
  // Simulated until goLive(); then it runs at the wall clock's pace from where the simulation left it.
  let liveFrom: { sim: number; wall: number } | null = null;
  const clock = () => (liveFrom ? liveFrom.sim + (Date.now() - liveFrom.wall) : now);
  const vocabulary = o.vocabulary ?? DEFAULT_VOCABULARY;
  const cfg: TopologyConfig = {
    ...DEFAULT_TOPOLOGY_CONFIG,
    idleLagMs: 0,
    recluster: { k: o.clusters ?? 8, seed: o.seed ?? 1, everyUpdates: 0, vocabulary },
  };
  const log = new EmbeddedLog({ clock, idleIntervalMs: 2 });
  // Erasure (docs/erasure.md): the registry of erased users and the audit, in memory here.
  const registry = createMemoryErasureRegistry({ salt: ERASURE_SALT });
  const erasureAudit = createMemoryErasureAuditStore();
  const logTopics = topicSpecs(cfg)
    .map((s) => s.topic)
    .filter((t) => t !== cfg.topics.erasure);
  await log.ensureTopics(topicSpecs(cfg));
  const profiles = o.profiles ?? createMemoryProfileStore();
  const clusters = o.clusterStore ?? createMemoryClusterStore();
  // MongoDB's in-memory twins: the raw archive and the latest revision of every session.
  const mongo = createMemoryMongoPorts();
  // Elasticsearch's in-memory twin: the golden documents the Kibana dashboard reads.
  const golden = createMemoryGoldenStore();
  const embedder = o.embedder ?? createHashingEmbedder(o.embeddingDim ?? 384);
  const index = createMemoryVectorIndex({ dim: embedder.dim, seed: o.seed ?? 1 });
  const metrics = new MetricsRegistry();
  // The dashboard's KPI view, folded from H and the dead letters by the topology's kpis sink.
  const kpis = createKpiView();
  const errors: unknown[] = [];
  // The API's document history, and the erasure's to take a user's choices back from.
  const docs = createMemoryDocStore();
  const adapters = {
    log,
    docs,
    profiles,
    clusters,
    index,
    archive: mongo.archive,
    examples: mongo.examples,
    golden,
    kpis,
    embedder,
    clock,
    metrics,
    registry,
    erasure: {
      audit: erasureAudit,
      salt: ERASURE_SALT,
      // The log's retained records of the user too (the erasure topic keeps its requests until retention).
      targets: [{ name: 'log', erase: async (u: string) => log.eraseWhere(recordOfUser(u), logTopics) }],
      onAudit: (a: ErasureAudit) => o.onErasureAudit?.(a),
    },
    onError: (e: unknown) => errors.push(e),
  };
  let live: RunningTopology | null = null;
  const scoring: ScoringConfig = { ...DEFAULT_SCORING_CONFIG, ...o.scoring };
  // With keys enforced, the in-process bots call with a key of their own, never printed.
  const botKey = o.security?.auth.mode === 'keys' ? randomBytes(32).toString('base64url') : undefined;
  const security: ApiSecurity | undefined =
    o.security?.auth.mode === 'keys' && botKey
      ? {
          ...o.security,
          auth: {
            mode: 'keys',
            keys: [
              ...o.security.auth.keys,
              {
                name: 'embedded-bots',
                digest: sha256(botKey),
                scopes: new Set(['events', 'profiles'] as const),
              },
            ],
          },
        }
      : o.security;
  const app = createApi({
    events: createLogEventSink(log, cfg.topics),
    erasures: createLogErasurePublisher(log, cfg.topics.erasure),
    profiles,
    clusters,
    index,
    embedder,
    router: createAbRouter({
      a: o.paraphraser ?? createOfflineParaphraser(),
      b: o.paraphraserB,
      salt: 'embedded',
    }),
    docs,
    vocabulary,
    scoring,
    personalised: o.personalised ?? true,
    metrics,
    clock,
    newId: o.newId,
    sessions: {
      // The in-memory twins, on the wheel's clock (sessions expire in simulated time).
      registry: createMemorySessionRegistry({ clock }),
      idempotency: createMemoryIdempotencyStore({ clock }),
      // A seeded simulation keeps its deterministic ids (the exploration draw hashes the session
      // id, and the same seed must give the same report); once live, ids are random and unguessable.
      newSessionId: () => (o.newId && !liveFrom ? o.newId() : newSessionId()),
      readYourWrites: o.readYourWrites,
    },
    clusterCacheMs: 0,
    ready: o.ready,
    onUpstreamError: o.onUpstreamError,
    readyDetails: () => live?.details() ?? {},
    security,
    dashboard: {
      kpis,
      mode: 'embedded',
      price: o.price,
      // Read at each poll, after the scheduler below exists (goLive replaces it).
      scheduler: { status: () => scheduler.status() },
      eventsPerTopic: async () => {
        const counts: Record<string, number> = {};
        for (const e of await log.topicEnds(Object.values(cfg.topics)))
          counts[e.topic] = (counts[e.topic] ?? 0) + e.offset;
        return counts;
      },
    },
  });
  const stats = {
    join: { records: 0, examples: 0, deadLetters: 0, deadLettersByCode: {}, batches: 0 } as JoinStats,
    profiles: { examples: 0, profileWrites: 0, reclusters: 0 },
  };
  const horizon = cfg.windowMs + cfg.graceMs + Math.max(cfg.windowMs, cfg.graceMs) + 60_000;

  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  const lag = (t: RunningTopology) => t.consumers.reduce((n, c) => n + log.lag(c.group, c.topics), 0);
  const addStats = (t: RunningTopology) => {
    const j = t.join!.stats;
    stats.join.records += j.records;
    stats.join.examples += j.examples;
    stats.join.deadLetters += j.deadLetters;
    add(stats.join.deadLettersByCode, j.deadLettersByCode);
    const fold = t.sink('profiles')!.stats.outcomes;
    stats.profiles.examples += fold.examples ?? 0;
    stats.profiles.profileWrites += fold.profile_writes ?? 0;
    stats.profiles.reclusters += t.recluster!.stats.reclusters;
  };

  // The timed jobs (app/wheel-jobs.ts): started by goLive; settle re-clusters through it, so each
  // run shows in status() and /metrics. Only a failed re-clustering stops the wheel.
  let reclusterOf: RunningTopology | null = null;
  const buildScheduler = (reclusterEveryMs: number) =>
    createScheduler({
      jobs: wheelJobs({
        recluster: () => reclusterOf?.recluster,
        reclusterEveryMs,
        index,
        examples: async () => examplesInLog(log, cfg.topics.trainingExamples),
        clock,
      }),
      clock,
      metrics,
      timers: globalThis,
      onError: (job, e) => {
        if (job === 'recluster') errors.push(e);
      },
    });
  let scheduler = buildScheduler(60_000);

  return {
    app,
    /** The bots' bearer key when keys are enforced (undefined: the API runs open). */
    botKey,
    log,
    profiles,
    clusters,
    index,
    archive: mongo.archive,
    examples: mongo.examples,
    golden,
    docs,
    kpis,
    registry,
    erasureAudit,
    embedder,
    metrics,
    config: cfg,
    stats,
    now: clock,
    /** The scheduled jobs' last run, duration and result (the dashboard reads it). */
    jobStatus: () => scheduler.status(),
    advance(ms: number) {
      now += ms;
    },
    /**
     * From now on the clock follows the wall clock and the processors run continuously, as in
     * production: the API's events are joined and folded as they come.
     */
    goLive(reclusterEveryMs = 60_000, opts: { logRetentionMs?: number } = {}) {
      liveFrom = { sim: now, wall: Date.now() };
      // While simulating the log keeps everything (the evaluation reads it); live, it keeps what a
      // consumer group has not committed past or is younger than the retention.
      log.setRetention(opts.logRetentionMs ?? DEFAULT_LOG_RETENTION_MS);
      const topology = startTopology(adapters, { ...cfg, idleLagMs: 2_000 });
      live = topology;
      reclusterOf = topology;
      scheduler = buildScheduler(reclusterEveryMs);
      scheduler.start();
      return {
        topology,
        async stop() {
          await scheduler.stop();
          await topology.stop();
          live = null;
        },
      };
    },
    /** Joins, folds, indexes and re-clusters everything emitted so far; time moves past every window. */
    async settle(timeoutMs = 60_000): Promise<void> {
      const topology = startTopology(adapters, cfg);
      const t0 = now;
      const until = Date.now() + timeoutMs;
      // Idle ticks only come once every partition is read to its end, so how far the clock moves
      // while waiting changes nothing that is decided; the clock then lands on a fixed time.
      while (lag(topology) > 0) {
        if (errors.length > 0) throw errors[0];
        if (Date.now() > until) throw new Error('the embedded wheel did not settle');
        now += horizon;
        await new Promise((r) => setTimeout(r, 1));
      }
      now = Math.max(now, t0 + SETTLE_STEP_MS);
      await topology.stop();
      reclusterOf = topology;
      await scheduler.runNow('recluster');
      reclusterOf = live;
      if (errors.length > 0) throw errors[0];
      addStats(topology);
    },
  };
}

export type EmbeddedWheel = Awaited<ReturnType<typeof createEmbeddedWheel>>;
