import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

export interface MicroBatchOptions {
  /** Emit as soon as this many items are buffered. */
  readonly size: number;
  /** Emit a non-empty buffer this long after its first item arrived. */
  readonly maxWaitMs: number;
  readonly scheduler?: SchedulerLike;
}

/**
 * Groups items into arrays of at most `size`, flushing a partial batch `maxWaitMs` after its first
 * item (so a quiet stream still drains) and whatever is left when the source completes. Unlike
 * `bufferTime`, no timer runs while the buffer is empty.
 *
 * @example
 * events$.pipe(microBatch({ size: 100, maxWaitMs: 500 })).subscribe((batch) => archive.insertMany(batch));
 */
export function microBatch<T>(opts: MicroBatchOptions): OperatorFunction<T, T[]> {
  if (!(opts.size >= 1) || !(opts.maxWaitMs >= 0))
    throw new Error('microBatch: size >= 1 and maxWaitMs >= 0');
  const scheduler = opts.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buf: T[] = [];
      let timer: Subscription | null = null;
      const flush = () => {
        timer?.unsubscribe();
        timer = null;
        if (buf.length === 0) return;
        const out = buf;
        buf = [];
        subscriber.next(out);
      };
      const sub = source.subscribe({
        next(v) {
          buf.push(v);
          if (buf.length >= opts.size) flush();
          else if (timer === null) timer = scheduler.schedule(flush, opts.maxWaitMs);
        },
        error(e) {
          timer?.unsubscribe();
          subscriber.error(e);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        sub.unsubscribe();
      };
    });
}
