/**
 * One scheduler for the wheel's timed jobs (re-clustering, index optimisation, the daily
 * fine-tuning export and the daily offline evaluation): when each is due is pure arithmetic on
 * the clock, the jobs themselves are small async functions given in. Safe to run twice: a job
 * never overlaps itself (a due tick while it runs is skipped and counted, `runNow` joins the run
 * in progress), and the jobs are idempotent by construction (replace, overwrite, optimise).
 *
 * Each job's last run, duration and result go to `/metrics` (gauges per `job` label) and to
 * `status()`, which the dashboard reads.
 */
import type { MetricsRegistry } from './metrics.ts';

export interface JobSpec {
  /** Metric label and status key, e.g. 'recluster'. */
  readonly name: string;
  /** Period in ms (a day for the daily jobs). */
  readonly everyMs: number;
  /** First run this long after `start()` (default: `everyMs`). */
  readonly firstAfterMs?: number;
  /** The work; what it resolves to (if a string or an object) is kept as the run's detail. */
  readonly run: () => Promise<unknown>;
}

export type JobResult = 'ok' | 'error';

export interface JobStatus {
  readonly name: string;
  readonly everyMs: number;
  readonly runs: number;
  readonly failures: number;
  /** Start of the last finished run, ms since the epoch (scheduler clock). */
  readonly lastRunMs: number | null;
  readonly lastDurationMs: number | null;
  readonly lastResult: JobResult | null;
  readonly lastError: string | null;
  /** What the last successful run returned (a summary line or a small object). */
  readonly lastDetail: unknown;
  readonly running: boolean;
  /** Due ticks skipped because the previous run had not finished. */
  readonly overlapsSkipped: number;
  /** When the next timed run is due (null before `start()` or after `stop()`). */
  readonly nextDueMs: number | null;
}

export interface SchedulerOptions {
  readonly jobs: readonly JobSpec[];
  /** ms since the epoch; the embedded wheel passes its simulated clock. */
  readonly clock: () => number;
  /** Measures durations (default `performance.now`); separate so a simulated clock still times real work. */
  readonly stopwatch?: () => number;
  readonly metrics?: MetricsRegistry;
  readonly onError?: (job: string, err: unknown) => void;
  /** How often `start()` checks for due jobs, ms (default 1,000). */
  readonly tickMs?: number;
  /** Timer functions (tests pass none and call `tick()` themselves). */
  readonly timers?: { setInterval(f: () => void, ms: number): unknown; clearInterval(h: unknown): void };
}

/** Pure: the next due time of a job given when it was last due (or the start). */
export function nextDue(lastDueMs: number, everyMs: number, nowMs: number): number {
  if (!(everyMs > 0)) return Number.POSITIVE_INFINITY;
  // Missed periods (the process slept, the simulated clock jumped) collapse into one run.
  const periods = Math.max(1, Math.floor((nowMs - lastDueMs) / everyMs) + 1);
  return lastDueMs + periods * everyMs;
}

/** Pure: which jobs are due at `nowMs`. */
export function dueJobs(next: ReadonlyMap<string, number>, nowMs: number): string[] {
  return [...next].filter(([, due]) => due <= nowMs).map(([name]) => name);
}

interface State {
  spec: JobSpec;
  runs: number;
  failures: number;
  lastRunMs: number | null;
  lastDurationMs: number | null;
  lastResult: JobResult | null;
  lastError: string | null;
  lastDetail: unknown;
  running: Promise<JobStatus> | null;
  overlapsSkipped: number;
}

/**
 * @example
 * const scheduler = createScheduler({
 *   jobs: [{ name: 'recluster', everyMs: 60_000, run: () => recluster.now() }],
 *   clock: Date.now, metrics, timers: globalThis,
 * });
 * scheduler.start();
 * scheduler.status(); // [{ name: 'recluster', lastResult: 'ok', lastDurationMs: 41, … }]
 * await scheduler.stop();
 */
export function createScheduler(o: SchedulerOptions) {
  const names = new Set<string>();
  for (const j of o.jobs) {
    if (names.has(j.name)) throw new Error(`scheduler: job "${j.name}" given twice`);
    if (!(j.everyMs > 0)) throw new Error(`scheduler: job "${j.name}" needs everyMs > 0, got ${j.everyMs}`);
    names.add(j.name);
  }
  const stopwatch = o.stopwatch ?? (() => performance.now());
  const states = new Map<string, State>(
    o.jobs.map((spec) => [
      spec.name,
      {
        spec,
        runs: 0,
        failures: 0,
        lastRunMs: null,
        lastDurationMs: null,
        lastResult: null,
        lastError: null,
        lastDetail: null,
        running: null,
        overlapsSkipped: 0,
      },
    ]),
  );
  const next = new Map<string, number>();
  let timer: unknown = null;

  const snapshot = (s: State): JobStatus => ({
    name: s.spec.name,
    everyMs: s.spec.everyMs,
    runs: s.runs,
    failures: s.failures,
    lastRunMs: s.lastRunMs,
    lastDurationMs: s.lastDurationMs,
    lastResult: s.lastResult,
    lastError: s.lastError,
    lastDetail: s.lastDetail,
    running: s.running !== null,
    overlapsSkipped: s.overlapsSkipped,
    nextDueMs: next.get(s.spec.name) ?? null,
  });

  const record = (s: State) => {
    const m = o.metrics;
    if (!m) return;
    const job = { job: s.spec.name };
    m.set(
      'sentencify_job_last_run_timestamp_seconds',
      'Start of the last finished run of a scheduled job (Unix s)',
      (s.lastRunMs ?? 0) / 1000,
      job,
    );
    m.set(
      'sentencify_job_duration_ms',
      'Duration of the last run of a scheduled job',
      s.lastDurationMs ?? 0,
      job,
    );
    m.set(
      'sentencify_job_last_result',
      'Result of the last run of a scheduled job: 1 ok, 0 error',
      s.lastResult === 'ok' ? 1 : 0,
      job,
    );
    m.inc('sentencify_job_runs_total', 'Finished runs of scheduled jobs', {
      ...job,
      result: s.lastResult ?? 'error',
    });
  };

  const execute = (s: State): Promise<JobStatus> => {
    if (s.running) return s.running;
    const startedAt = o.clock();
    const t0 = stopwatch();
    s.running = (async () => {
      try {
        const detail = await s.spec.run();
        s.lastResult = 'ok';
        s.lastError = null;
        s.lastDetail = detail ?? null;
      } catch (err) {
        s.lastResult = 'error';
        s.lastError = err instanceof Error ? err.message : String(err);
        s.failures += 1;
        o.onError?.(s.spec.name, err);
      }
      s.runs += 1;
      s.lastRunMs = startedAt;
      s.lastDurationMs = stopwatch() - t0;
      record(s);
      s.running = null;
      return snapshot(s);
    })();
    return s.running;
  };

  const tick = async (): Promise<void> => {
    const now = o.clock();
    const runs: Promise<JobStatus>[] = [];
    for (const name of dueJobs(next, now)) {
      const s = states.get(name)!;
      next.set(name, nextDue(next.get(name)!, s.spec.everyMs, now));
      if (s.running) {
        s.overlapsSkipped += 1;
        continue;
      }
      runs.push(execute(s));
    }
    await Promise.all(runs);
  };

  return {
    /** Arms every job's first due time from now and, with `timers`, checks every `tickMs`. */
    start(): void {
      const now = o.clock();
      for (const s of states.values())
        if (!next.has(s.spec.name)) next.set(s.spec.name, now + (s.spec.firstAfterMs ?? s.spec.everyMs));
      if (o.timers && timer === null) {
        timer = o.timers.setInterval(() => void tick(), o.tickMs ?? 1_000);
        (timer as { unref?: () => void }).unref?.();
      }
    },
    /** Runs the jobs due now (what the timer calls; tests call it after moving a fake clock). */
    tick,
    /** Runs a job now, or joins its run in progress; does not move its timed schedule. */
    runNow(name: string): Promise<JobStatus> {
      const s = states.get(name);
      if (!s) return Promise.reject(new Error(`scheduler: no job "${name}"`));
      return execute(s);
    },
    /** Each job's state, in the order given. Pure read. */
    status(): JobStatus[] {
      return [...states.values()].map(snapshot);
    },
    /** Stops timing and waits for the runs in progress. */
    async stop(): Promise<void> {
      if (timer !== null) o.timers?.clearInterval(timer);
      timer = null;
      next.clear();
      await Promise.all([...states.values()].map((s) => s.running).filter((p) => p !== null));
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
