import type { MetricsRegistry } from '../../common/metrics.ts';
import type { CommittedOffset, LogConsumer } from '../log/event-log.ts';
import type { OnRetry, Retrier } from './retry.ts';

/**
 * A commit that fails after a few tries is skipped, not fatal: offsets are only a restart
 * position, the next apply commits newer ones, and a failure here usually means a rebalance took
 * the partition away (its new owner resumes from the last good commit; sinks are idempotent).
 */
export async function commitBestEffort(
  retrier: Retrier,
  consumer: LogConsumer,
  offsets: readonly CommittedOffset[],
  onRetry?: OnRetry,
): Promise<void> {
  if (offsets.length === 0) return;
  try {
    await retrier.io(() => consumer.commit(offsets), 'commit', { maxAttempts: 3 });
  } catch (err) {
    if (retrier.dead) throw err;
    onRetry?.('commit (skipped)', err, 3);
  }
}

/**
 * Offsets whose outputs were confirmed, committed one commit after another and off the caller's
 * path: `confirm` records them (a later offset of a partition replaces an earlier one), `commit`
 * commits what is recorded after any commit still running and resolves when it is done, so a
 * caller that must not go on first (a revocation, stop) awaits it and any other fires and forgets.
 * `sinceLastCommitMs` is for an interval policy.
 *
 * @example
 * const commits = createCommitChain({ retrier, consumer, metrics, group: 'sentencify-join' });
 * commits.confirm(offsets);
 * if (commits.sinceLastCommitMs() >= intervalMs) void commits.commit().catch(() => {});
 */
export function createCommitChain(o: {
  readonly retrier: Retrier;
  readonly consumer: LogConsumer;
  readonly onRetry?: OnRetry;
  /** Where each committed offset is reported (`sentencify_commit_offset`, by group). */
  readonly metrics?: MetricsRegistry;
  readonly group: string;
}) {
  const committable = new Map<string, CommittedOffset>();
  let lastCommit = performance.now();
  let chain: Promise<void> = Promise.resolve();
  return {
    confirm(offsets: Iterable<CommittedOffset>): void {
      for (const c of offsets) committable.set(`${c.topic}/${c.partition}`, c);
    },
    pending: () => committable.size,
    sinceLastCommitMs: () => performance.now() - lastCommit,
    commit(): Promise<void> {
      lastCommit = performance.now();
      if (committable.size === 0) return chain;
      const offsets = [...committable.values()];
      committable.clear();
      const run = chain
        .then(() => commitBestEffort(o.retrier, o.consumer, offsets, o.onRetry))
        .then(() => {
          for (const c of offsets)
            o.metrics?.set(
              'sentencify_commit_offset',
              'Last committed offset per group and partition',
              c.offset,
              {
                group: o.group,
                topic: c.topic,
                partition: c.partition,
              },
            );
        });
      // Only a killed runtime makes a best-effort commit throw; the next commit still runs.
      chain = run.catch(() => {});
      return run;
    },
  };
}
