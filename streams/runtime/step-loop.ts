import { concatMap, type Observable, type Subscription } from 'rxjs';
import { Killed } from './retry.ts';

export interface StepLoop {
  /**
   * Stop taking inputs; the step in flight finishes first, then `last` runs (while the source is
   * still subscribed: a consumer can still commit), then the source is left.
   */
  stop(last?: () => Promise<void>): Promise<void>;
  /** Stop at once (the caller also kills its retrier, so the step in flight does no more I/O). */
  kill(): void;
}

/**
 * Runs `step` for each input, one at a time and in order: the ordered step loop every processor
 * of the topology (the session join and each sink) is built on. A step that throws ends the loop
 * and is reported to `onError` (a `Killed` step is not an error).
 *
 * @example
 * const loop = runSteps(consumer.deliveries$, async (d) => { await apply(d); d.ack(); }, onError);
 * await loop.stop();
 */
export function runSteps<T>(
  inputs$: Observable<T>,
  step: (input: T) => Promise<void>,
  onError: (err: unknown) => void,
): StepLoop {
  let current: Promise<void> = Promise.resolve();
  let stopping = false;
  const sub: Subscription = inputs$
    .pipe(
      concatMap((x) => {
        // Once stopping, inputs are left unprocessed (and unacknowledged: nothing more comes).
        if (stopping) return Promise.resolve();
        const p = step(x);
        current = p.catch(() => {});
        return p;
      }),
    )
    .subscribe({ error: (err) => (err instanceof Killed ? undefined : onError(err)) });
  return {
    async stop(last) {
      stopping = true;
      await current;
      try {
        await last?.();
      } finally {
        sub.unsubscribe();
      }
    },
    kill() {
      sub.unsubscribe();
    },
  };
}
