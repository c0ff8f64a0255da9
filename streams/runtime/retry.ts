/**
 * The one retry policy of every I/O step in the topology: capped exponential backoff with jitter.
 * Whether a failure is worth another try is decided by its type (`retriable` on a typed error),
 * never by its message text.
 */
export interface RetryPolicy {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Cap on any delay. */
  readonly maxMs: number;
  /** Share of each delay drawn at random (0 = none, 0.5 = ±50 %), so restarts don't retry in step. */
  readonly jitter: number;
  /** Give up after this many attempts (default: never). */
  readonly maxAttempts?: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ baseMs: 100, maxMs: 5_000, jitter: 0.2 });

/** The delay before attempt `attempt + 1` after `attempt` failures. Pure, given `random`. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  const spread = exp * policy.jitter;
  return Math.max(0, Math.min(policy.maxMs, exp - spread + 2 * spread * random()));
}

/** Thrown into every pending step once the processor is killed: nothing more reaches the outside. */
export class Killed extends Error {
  readonly retriable = false;
  constructor() {
    super('processor killed');
    this.name = 'Killed';
  }
}

/** Whether another try may help: typed errors say so with `retriable`; untyped ones are retried. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof Killed) return false;
  if (err && typeof err === 'object' && 'retriable' in err)
    return (err as { retriable: unknown }).retriable !== false;
  return true;
}

export type OnRetry = (what: string, err: unknown, attempt: number) => void;

export interface Retrier {
  /**
   * Runs `f` until it succeeds, a failure is not retriable, `maxAttempts` is reached or the
   * processor is killed (then `Killed` is thrown, also for a call that succeeded meanwhile).
   */
  io<T>(f: () => Promise<T>, what: string, opts?: { maxAttempts?: number }): Promise<T>;
  kill(): void;
  readonly dead: boolean;
}

/**
 * A retrier with a kill switch: every I/O step of a processor goes through one, so a broker or
 * store restart stalls the step instead of failing it, and `kill()` (a crash, in tests) stops all
 * further I/O at once.
 *
 * @example
 * const r = createRetrier({ onRetry: (what, err, n) => log('retrying', { what, n }) });
 * await r.io(() => store.putMany(profiles), 'write profiles');
 */
export function createRetrier(
  o: { policy?: RetryPolicy; onRetry?: OnRetry; sleep?: (ms: number) => Promise<void> } = {},
): Retrier {
  const policy = o.policy ?? DEFAULT_RETRY;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let dead = false;
  return {
    kill: () => {
      dead = true;
    },
    get dead() {
      return dead;
    },
    async io<T>(f: () => Promise<T>, what: string, opts: { maxAttempts?: number } = {}): Promise<T> {
      const max = opts.maxAttempts ?? policy.maxAttempts ?? Number.POSITIVE_INFINITY;
      for (let attempt = 1; ; attempt++) {
        if (dead) throw new Killed();
        try {
          const r = await f();
          if (dead) throw new Killed();
          return r;
        } catch (err) {
          if (dead) throw new Killed();
          if (!isRetriable(err) || attempt >= max) throw err;
          o.onRetry?.(what, err, attempt);
          await sleep(backoffMs(policy, attempt));
        }
      }
    },
  };
}
