import { DEFAULT_TOPICS, type OptionVocabulary, type TopicNames } from '../schemas/index.ts';
import { DEFAULT_MAX_EVENT_BYTES } from './codec/session-codec.ts';
import type { TopicSpec } from './log/event-log.ts';

/** What every mode's topology is configured with (parsed from the environment by the roots). */
export interface TopologyConfig {
  readonly topics: TopicNames;
  readonly sessionPartitions: number;
  readonly trainingPartitions: number;
  readonly joinGroup: string;
  readonly profileGroup: string;
  /** The other sinks' groups are `<groupPrefix>-<sink name>` unless set in `sinkGroups`. */
  readonly groupPrefix: string;
  readonly sinkGroups?: Readonly<Record<string, string>>;
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
  /**
   * How often the join commits the checkpoints whose outputs are confirmed, and each sink the
   * offsets it applied (as Kafka Streams' `commit.interval.ms`), in the background; both also
   * commit when caught up, before a revocation and at stop.
   */
  readonly commitIntervalMs: number;
  /** Batches whose sends may still be in flight while the next is joined (back-pressure). */
  readonly maxSendsInFlight: number;
  readonly recluster: {
    readonly k: number;
    readonly seed: number;
    /** Re-cluster after this many profile updates (0 = never automatically). */
    readonly everyUpdates: number;
    readonly vocabulary?: OptionVocabulary;
  };
}

/** The defaults every root starts from (the README's tables list them). */
export const DEFAULT_TOPOLOGY_CONFIG: TopologyConfig = Object.freeze({
  topics: DEFAULT_TOPICS,
  sessionPartitions: 6,
  trainingPartitions: 6,
  joinGroup: 'sentencify-join',
  profileGroup: 'sentencify-profiles',
  groupPrefix: 'sentencify',
  windowMs: 30 * 60_000,
  graceMs: 10 * 60_000,
  idleLagMs: 5_000,
  maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
  maxBatchSize: 500,
  commitIntervalMs: 1_000,
  maxSendsInFlight: 4,
  recluster: Object.freeze({ k: 8, seed: 1, everyUpdates: 1000 }),
});

/** The consumer group of a sink. */
export function sinkGroup(cfg: TopologyConfig, sink: string): string {
  if (sink === 'profiles') return cfg.profileGroup;
  return cfg.sinkGroups?.[sink] ?? `${cfg.groupPrefix}-${sink}`;
}

/** All the topics the topology uses, with their partition counts. */
export function topicSpecs(
  cfg: Pick<TopologyConfig, 'topics' | 'sessionPartitions' | 'trainingPartitions'>,
): TopicSpec[] {
  return [
    { topic: cfg.topics.recommend, partitions: cfg.sessionPartitions },
    { topic: cfg.topics.paraphrase, partitions: cfg.sessionPartitions },
    { topic: cfg.topics.selection, partitions: cfg.sessionPartitions },
    { topic: cfg.topics.trainingExamples, partitions: cfg.trainingPartitions },
    { topic: cfg.topics.deadLetter, partitions: 1 },
    // Erasures are rare; one partition keeps them in request order for every consumer.
    { topic: cfg.topics.erasure, partitions: 1 },
  ];
}
