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
