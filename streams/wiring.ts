import type { KpiView } from '../analytics/kpis.ts';
import { createKpiSink } from '../analytics/kpis-sink.ts';
import type { VectorIndex } from '../api/vector/vector-index.ts';
import type { MetricsRegistry } from '../common/metrics.ts';
import type { ReclusterInput, ReclusterResult } from './clustering/cluster-profiles.ts';
import { createReclusterJob, type ReclusterJob } from './clustering/recluster-job.ts';
import type { EventSerde } from './codec/serde.ts';
import type { Embedder } from './embeddings/embedder.ts';
import type { EventLog } from './log/event-log.ts';
import { type RunningJoin, startJoinProcessor } from './processors/join-processor.ts';
import { createRetrier, type OnRetry } from './runtime/retry.ts';
import { type RunningSink, runSink } from './runtime/sink-runtime.ts';
import { createArchiveSink } from './sinks/archive-sink.ts';
import { createErasureSink, type ErasureTarget } from './sinks/erasure-sink.ts';
import { createExamplesSink } from './sinks/examples-sink.ts';
import { createGoldenSink } from './sinks/golden-sink.ts';
import { createIndexSink } from './sinks/index-sink.ts';
import { createProfileSink } from './sinks/profile-sink.ts';
import type { Sink } from './sinks/sink.ts';
import type { ArchiveStore, ExampleStore } from './stores/archive-store.ts';
import type { DocStore } from './stores/doc-store.ts';
import type { ErasureAudit, ErasureAuditStore } from './stores/erasure-audit.ts';
import type { ErasureRegistry } from './stores/erasure-registry.ts';
import type { GoldenStore } from './stores/golden-store.ts';
import type { ClusterStore, ProfileStore } from './stores/profile-store.ts';
import { sinkGroup, type TopologyConfig } from './topology-config.ts';

/** What a process runs: the session join, and each consumer of H (or of A/B/C) by name. */
export const ROLES = [
  'join',
  'profiles',
  'index',
  'archive',
  'training-examples',
  'golden',
  'kpis',
  'erasure',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * The adapters a mode passes: embedded (EmbeddedLog, in-memory stores, in-process index) and
 * production (Kafka, Redis, Qdrant, …) differ here, not in the topology. A store that is not
 * passed has no sink.
 */
export interface TopologyAdapters {
  readonly log: EventLog;
  readonly profiles: ProfileStore;
  readonly clusters: ClusterStore;
  readonly embedder: Embedder;
  /** The nearest-past-contexts index behind P_vec. */
  readonly index?: VectorIndex;
  /** Every A/B/C event and dead letter (MongoDB `events`, `dead_letters`). */
  readonly archive?: ArchiveStore;
  /** The latest revision of every session's H (MongoDB `training_examples`). */
  readonly examples?: ExampleStore;
  /** Flattened H for dashboards (Elasticsearch `sentencify-golden-YYYY.MM.DD`). */
  readonly golden?: GoldenStore;
  /** The documents' choice history the API keeps (P_doc); here only for the erasure to reach it. */
  readonly docs?: DocStore;
  /** The dashboard's KPI view, folded from H and the dead letters in the process that serves it. */
  readonly kpis?: KpiView;
  readonly serde?: EventSerde;
  /**
   * The erased-users registry (Redis in production, the twin embedded): the join and every sink
   * drop what belongs to an erased user from before the erasure (docs/erasure.md).
   */
  readonly registry?: ErasureRegistry;
  /** The erasure role's own needs: the audit store, the hash salt, stores only the root knows. */
  readonly erasure?: {
    readonly audit: ErasureAuditStore;
    readonly salt: string;
    /** Further stores to erase from (the embedded log's retained records). */
    readonly targets?: readonly ErasureTarget[];
    readonly onAudit?: (a: ErasureAudit) => void;
  };
  /** Where k-means runs (production: a worker thread). */
  readonly reclusterer?: (input: ReclusterInput) => Promise<ReclusterResult>;
  /** Processing-time clock (the simulator passes its virtual clock). */
  readonly clock: () => number;
  readonly metrics?: MetricsRegistry;
  readonly onRetry?: OnRetry;
  /** A processor or sink failed for good. */
  readonly onError?: (err: unknown) => void;
}

export interface RunningTopology {
  readonly join: RunningJoin | null;
  readonly sinks: readonly RunningSink[];
  readonly recluster: ReclusterJob | null;
  /** Every consumer group this process reads with, and its topics (lag checks, settling). */
  readonly consumers: readonly { readonly group: string; readonly topics: readonly string[] }[];
  sink(name: string): RunningSink | undefined;
  /** What `/ready` shows: per consumer, its status, lag and counts. */
  details(): Record<string, unknown>;
  /** Stop consuming; batches in flight reach their stores and are committed first. */
  stop(): Promise<void>;
  /** Die at once, like kill -9 (tests). */
  kill(): void;
}

/**
 * The cluster store as the re-clustering writes it: a run that scanned a profile just before its
 * user was erased does not write the user back into the mapping. (The centroids are aggregates
 * over many users and are recomputed by the next run without them.)
 */
function withoutErasedAssignments(clusters: ClusterStore, registry: ErasureRegistry): ClusterStore {
  return {
    ...clusters,
    clusters: () => clusters.clusters(),
    clusterOf: (ids) => clusters.clusterOf(ids),
    ...(clusters.eraseUser ? { eraseUser: (u: string) => clusters.eraseUser!(u) } : {}),
    async replace(cs, assignments) {
      const erased = await registry.erasedAt([...assignments.keys()]);
      const kept =
        erased.size === 0 ? assignments : new Map([...assignments].filter(([u]) => !erased.has(u)));
      await clusters.replace(cs, kept);
    },
  };
}

/**
 * The whole topology, built from adapters and a config — the one wiring `npm start`, `npm run
 * stream` and `npm run api` all call, each with the roles it runs:
 *
 *   A/B/C ─▶ session join ─▶ H (keyed by user) and dead letters
 *   H ─▶ profile fold (G) ─▶ re-clustering (J)      sink `profiles`
 *   H ─▶ vector index (high-consistency contexts)    sink `index`
 *   H ─▶ latest revision per session                 sink `training-examples` (MongoDB)
 *   H ─▶ golden indices for Kibana                   sink `golden` (Elasticsearch)
 *   A/B/C + dead letters ─▶ raw archive               sink `archive` (MongoDB)
 *   H + dead letters ─▶ the dashboard's KPI view      sink `kpis` (in process)
 *
 * Every consumer of H is a sink with its own consumer group on one runtime (`runSink`), so a slow
 * or unreachable store stalls only its own sink.
 *
 * @example
 * const topology = startTopology({ log, profiles, clusters, embedder, index, clock: Date.now }, cfg, ['join', 'profiles']);
 */
export function startTopology(
  a: TopologyAdapters,
  cfg: TopologyConfig,
  roles: readonly Role[] = ROLES,
): RunningTopology {
  const runs = (r: Role) => roles.includes(r);
  const h = cfg.topics.trainingExamples;
  const runtime = {
    log: a.log,
    deadLetterTopic: cfg.topics.deadLetter,
    metrics: a.metrics,
    onRetry: a.onRetry,
    onError: a.onError,
    maxBatchSize: cfg.maxBatchSize,
    // Sinks commit on the join's interval too: an apply never waits for a commit round trip.
    commitIntervalMs: cfg.commitIntervalMs,
  };

  const join = runs('join') ? startJoinProcessor(a, cfg) : null;
  const registry = a.registry;
  const erasing = runs('erasure') && a.registry !== undefined && a.erasure !== undefined;

  const recluster = runs('profiles')
    ? createReclusterJob({
        profiles: a.profiles,
        clusters: registry ? withoutErasedAssignments(a.clusters, registry) : a.clusters,
        ...cfg.recluster,
        embeddingDim: a.embedder.dim,
        run: a.reclusterer,
        retrier: createRetrier({ onRetry: a.onRetry }),
        metrics: a.metrics,
        onError: a.onError,
      })
    : null;

  const sinks: Sink[] = [];
  if (recluster)
    sinks.push(
      createProfileSink({
        profiles: a.profiles,
        embedder: a.embedder,
        topic: h,
        group: sinkGroup(cfg, 'profiles'),
        onFolded: (changed, ts) => recluster.profilesChanged(changed, ts),
        registry,
      }),
    );
  if (runs('index') && a.index)
    sinks.push(
      createIndexSink({
        index: a.index,
        embedder: a.embedder,
        topic: h,
        group: sinkGroup(cfg, 'index'),
        registry,
        // An index no erasure role here reaches (an API's in-process one) applies erasures itself.
        ...(erasing ? {} : { erasureTopic: cfg.topics.erasure }),
      }),
    );
  if (runs('training-examples') && a.examples)
    sinks.push(
      createExamplesSink({
        store: a.examples,
        topic: h,
        group: sinkGroup(cfg, 'training-examples'),
        registry,
      }),
    );
  if (runs('golden') && a.golden)
    sinks.push(createGoldenSink({ store: a.golden, topic: h, group: sinkGroup(cfg, 'golden'), registry }));
  if (runs('archive') && a.archive)
    sinks.push(
      createArchiveSink({ store: a.archive, topics: cfg.topics, group: sinkGroup(cfg, 'archive'), registry }),
    );
  if (erasing) {
    const targets: ErasureTarget[] = [];
    const add = (name: string, erase: ErasureTarget['erase'] | undefined) => {
      if (erase) targets.push({ name, erase });
    };
    add('profiles', a.profiles.eraseUser?.bind(a.profiles));
    add('clusters', a.clusters.eraseUser?.bind(a.clusters));
    add('archive', a.archive?.eraseUser?.bind(a.archive));
    add('training_examples', a.examples?.eraseUser?.bind(a.examples));
    add('golden', a.golden?.eraseUser?.bind(a.golden));
    add('index', a.index?.deleteByUser?.bind(a.index));
    add('docs', a.docs?.eraseUser.bind(a.docs));
    targets.push(...(a.erasure!.targets ?? []));
    sinks.push(
      createErasureSink({
        registry: a.registry!,
        audit: a.erasure!.audit,
        salt: a.erasure!.salt,
        targets,
        topic: cfg.topics.erasure,
        group: sinkGroup(cfg, 'erasure'),
        metrics: a.metrics,
        onAudit: a.erasure!.onAudit,
        clock: a.clock,
      }),
    );
  }

  // The dashboard's KPI view (analytics/kpis.ts): in-memory, so in a group of this process alone.
  if (runs('kpis') && a.kpis)
    sinks.push(
      createKpiSink({
        view: a.kpis,
        trainingExamples: h,
        deadLetter: cfg.topics.deadLetter,
        group: sinkGroup(cfg, 'kpis'),
        // Erasures reach this in-process view only through its own sink (no erasure role's target).
        erasureTopic: cfg.topics.erasure,
        registry,
      }),
    );

  const running = sinks.map((s) => runSink(s, runtime));
  const consumers = [
    ...(join
      ? [
          {
            group: cfg.joinGroup,
            topics: [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection],
          },
        ]
      : []),
    ...sinks.map((s) => ({ group: s.group, topics: s.topics })),
  ];

  return {
    join,
    sinks: running,
    recluster,
    consumers,
    sink: (name) => running.find((s) => s.name === name),
    details: () => ({
      ...(join ? { join: join.stats } : {}),
      ...(recluster ? { recluster: recluster.stats } : {}),
      sinks: Object.fromEntries(
        running.map((s) => [
          s.name,
          {
            group: s.group,
            status: s.stats.status,
            lag: s.lag(),
            caught_up: s.caughtUp(),
            records: s.stats.records,
            rejected: s.stats.rejected,
            outcomes: s.stats.outcomes,
            // The kind only: /ready is open, and a message names hosts (the log has it).
            last_error: s.stats.lastErrorKind,
          },
        ]),
      ),
    }),
    async stop() {
      await Promise.allSettled([join?.stop(), ...running.map((s) => s.stop())]);
    },
    kill() {
      join?.kill();
      for (const s of running) s.kill();
    },
  };
}
