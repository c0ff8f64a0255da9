import { concatMap, map } from 'rxjs';
import type { MetricsRegistry } from '../../common/metrics.ts';
import { type DeadLetter, deadLetterCodeSchema } from '../../schemas/index.ts';
import { type EventSerde, jsonSerde } from '../codec/serde.ts';
import { checkpointMetadata, encodeDeadLetter, encodeExample } from '../codec/session-codec.ts';
import type { CommittedOffset, EventLog } from '../log/event-log.ts';
import { joinBySession } from '../operators/join-by-session.ts';
import { createCommitChain } from '../runtime/commit.ts';
import { createRetrier, type OnRetry } from '../runtime/retry.ts';
import { runSteps } from '../runtime/step-loop.ts';
import {
  dropErased,
  type ErasureRegistry,
  exampleStartMs,
  withKnownErasures,
} from '../stores/erasure-registry.ts';
import type { TopologyConfig } from '../topology-config.ts';
import { decodeDelivery, IdleTime, type JoinToken, toJoinBatch, withoutErased } from './join-input.ts';

export interface JoinProcessorDeps {
  readonly log: EventLog;
  /** Processing-time clock for idle watermark ticks (the simulator passes its virtual clock). */
  readonly clock: () => number;
  /**
   * Bytes ↔ values of A/B/C and H (default jsonSerde: plain JSON, decoded synchronously). Any
   * other serde decodes each delivery in an async step before the join, in delivery order.
   */
  readonly serde?: EventSerde;
  readonly metrics?: MetricsRegistry;
  readonly onRetry?: OnRetry;
  readonly onError?: (err: unknown) => void;
  /**
   * Erased users (docs/erasure.md): their A/B/C from before the erasure are skipped on the way in,
   * and an H or dead letter of theirs that open session state still produces is dropped on the way
   * out, so neither a replay nor a session open at the erasure brings them back.
   */
  readonly registry?: ErasureRegistry;
}

export interface JoinStats {
  records: number;
  examples: number;
  deadLetters: number;
  deadLettersByCode: Record<string, number>;
  batches: number;
}

export interface RunningJoin {
  readonly stats: JoinStats;
  /** Stop consuming; the in-flight batch finishes its sends and commit first. */
  stop(): Promise<void>;
  /** Die at once, like kill -9: the in-flight batch does no further I/O (tests use this). */
  kill(): void;
}

/**
 * The session-join processor: A/B/C topics → decode → joinBySession → H topic (keyed by user_id)
 * and dead-letter topic → commit the join's checkpoints. Batches are joined one at a time and in
 * order; their sends are pipelined behind the join (one chain, in order) and a checkpoint is
 * committed only after the sends of its batch and of every batch before it were confirmed.
 *
 * @example
 * const join = startJoinProcessor({ log, clock: Date.now, metrics }, DEFAULT_TOPOLOGY_CONFIG);
 * await join.stop();
 */
export function startJoinProcessor(deps: JoinProcessorDeps, cfg: TopologyConfig): RunningJoin {
  const stats: JoinStats = { records: 0, examples: 0, deadLetters: 0, deadLettersByCode: {}, batches: 0 };
  const m = deps.metrics;
  const inputTopics = [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection];
  const consumer = deps.log.consumer({
    groupId: cfg.joinGroup,
    topics: inputTopics,
    maxBatchSize: cfg.maxBatchSize,
  });
  const retrier = createRetrier({
    onRetry: (what, err, attempt) => {
      m?.inc('sentencify_io_retries_total', 'Failed I/O calls that were retried', { what: `join: ${what}` });
      deps.onRetry?.(what, err, attempt);
    },
  });
  // Every series exists from the start (at 0), so dashboards and alerts see them before the first event.
  m?.inc('sentencify_join_records_total', 'A/B/C records read by the session join', {}, 0);
  m?.inc('sentencify_join_examples_total', 'Training examples (H, all revisions) produced', {}, 0);
  for (const code of deadLetterCodeSchema.options)
    m?.inc('sentencify_dead_letters_total', 'Records sent to the dead-letter topic, by code', { code }, 0);
  const idle = new IdleTime();
  const serde = deps.serde === jsonSerde ? undefined : deps.serde;
  // With a serde, decoding is async: one step per delivery, in order, so the join still sees one
  // batch per delivery; an unreachable registry is retried (the processor stalls, like a broker).
  const registry = deps.registry;
  // The users each batch was checked for on the way in, and the answer: the check on the way out
  // (what sessions open at an erasure still produce) asks only about other users, so a selection
  // that completes its session costs one registry round trip, not two.
  const checked = new WeakMap<JoinToken, { users: Set<string>; erased: Map<string, number> }>();
  const unerased = async (b: ReturnType<typeof toJoinBatch>) => {
    if (!registry || !b.records || b.records.length === 0) return b;
    const users = new Set(b.records.map((r) => r.event.user_id));
    const erased = await retrier.io(() => registry.erasedAt([...users]), 'erased users');
    if (b.token) checked.set(b.token, { users, erased });
    return withoutErased(b, erased).batch;
  };
  const batches$ = serde
    ? consumer.deliveries$.pipe(
        concatMap(async (d) => {
          const values = await retrier.io(() => decodeDelivery(serde, d, cfg.maxEventBytes), 'decode');
          return unerased(toJoinBatch(d, cfg, deps.clock, idle, values));
        }),
      )
    : registry
      ? consumer.deliveries$.pipe(concatMap((d) => unerased(toJoinBatch(d, cfg, deps.clock, idle))))
      : consumer.deliveries$.pipe(map((d) => toJoinBatch(d, cfg, deps.clock, idle)));
  const joined$ = batches$.pipe(
    joinBySession<JoinToken>({
      inputTopics,
      windowMs: cfg.windowMs,
      graceMs: cfg.graceMs,
      tombstoneMs: cfg.tombstoneMs,
      plausibleGapMs: cfg.plausibleGapMs,
      replayMs: cfg.replayMs,
    }),
  );
  // Pipelining (as Kafka Streams): a step hands its outputs to the send chain and lets the next
  // batch in at once, so decoding and joining batch n+1 overlap the sends of batch n. Sends stay
  // in one chain, in step order (a session's revisions must reach H in order). A step's
  // checkpoints become committable only once its sends (and every earlier one) are confirmed, and
  // they are committed on an interval, when caught up, before a revocation and at stop.
  let sendChain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failure: unknown = null;
  // Commits run one after another, off the step loop: a step does not wait for a commit's round
  // trip (only a revocation and stop do), so an interval commit adds nothing to the latency of the
  // records that arrive meanwhile.
  const commits = createCommitChain({
    retrier,
    consumer,
    onRetry: deps.onRetry,
    metrics: m,
    group: cfg.joinGroup,
  });
  const drain = async () => {
    await sendChain;
    if (failure) throw failure;
    await commits.commit();
  };
  const loop = runSteps(
    joined$,
    async (r) => {
      if (failure) throw failure;
      let dead: DeadLetter[] = [...(r.token?.decodeDead ?? []), ...r.deadLetters];
      let examples = r.examples;
      if (registry && (examples.length > 0 || dead.length > 0)) {
        // What a session that was open at the erasure still produces is dropped here.
        const known = r.token ? checked.get(r.token) : undefined;
        const lookup = known ? withKnownErasures(registry, known) : registry;
        examples = (
          await retrier.io(
            () => dropErased(lookup, r.examples, (x) => x.user_id, exampleStartMs),
            'erased users',
          )
        ).kept;
        dead = (
          await retrier.io(
            () =>
              dropErased(
                lookup,
                dead,
                (x) => x.event?.user_id ?? null,
                (x) => Date.parse(x.event?.ts ?? ''),
              ),
            'erased users',
          )
        ).kept;
      }
      const h = cfg.topics.trainingExamples;
      const messages =
        examples.length === 0
          ? []
          : serde
            ? await retrier.io(
                () => Promise.all(examples.map(async (x) => encodeExample(x, await serde.encode(h, x)))),
                'encode H',
              )
            : examples.map((x) => encodeExample(x));
      const letters = dead.map((x) => encodeDeadLetter(x, x.recommend_session_id));
      const offsets = r.checkpoints.map(
        (cp): CommittedOffset => ({
          topic: cp.topic,
          partition: cp.partition,
          offset: cp.offset,
          metadata: checkpointMetadata(cp),
        }),
      );
      if (messages.length > 0 || letters.length > 0 || offsets.length > 0) {
        inFlight++;
        sendChain = sendChain
          .then(async () => {
            if (messages.length > 0) await retrier.io(() => deps.log.send(h, messages), 'send H');
            if (letters.length > 0)
              await retrier.io(() => deps.log.send(cfg.topics.deadLetter, letters), 'send dead letters');
            commits.confirm(offsets);
          })
          .catch((err) => {
            failure ??= err;
          })
          .finally(() => {
            inFlight--;
          });
      }
      const ev = r.token?.delivery.event;
      const records = ev?.kind === 'batch' ? ev.records.length : 0;
      if (ev?.kind === 'assigned' || ev?.kind === 'revoked')
        m?.inc('sentencify_rebalances_total', 'Partitions assigned or revoked', {
          group: cfg.joinGroup,
          kind: ev.kind,
        });
      // A partition about to move: everything sent, everything committed, first. Caught up: what
      // is confirmed once the sends in flight are is committed, without holding up the next batch.
      if (ev?.kind === 'revoked') await drain();
      else {
        if (ev?.kind === 'idle')
          void sendChain.then(() => (failure ? undefined : commits.commit())).catch(() => {});
        if (inFlight > cfg.maxSendsInFlight) await sendChain;
        if (commits.sinceLastCommitMs() >= cfg.commitIntervalMs) void commits.commit().catch(() => {});
      }
      stats.records += records;
      stats.batches += 1;
      stats.examples += examples.length;
      stats.deadLetters += dead.length;
      if (records > 0)
        m?.inc('sentencify_join_records_total', 'A/B/C records read by the session join', {}, records);
      if (examples.length > 0)
        m?.inc(
          'sentencify_join_examples_total',
          'Training examples (H, all revisions) produced',
          {},
          examples.length,
        );
      for (const x of dead) {
        stats.deadLettersByCode[x.code] = (stats.deadLettersByCode[x.code] ?? 0) + 1;
        m?.inc('sentencify_dead_letters_total', 'Records sent to the dead-letter topic, by code', {
          code: x.code,
        });
      }
      r.token?.delivery.ack();
    },
    (err) => deps.onError?.(err),
  );
  return {
    stats,
    async stop() {
      // The last confirmed checkpoints are committed while the consumer is still in its group.
      await loop.stop(async () => {
        if (!retrier.dead) await drain().catch((err) => deps.onError?.(err));
      });
    },
    kill() {
      retrier.kill();
      loop.kill();
    },
  };
}
