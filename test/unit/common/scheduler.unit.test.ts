import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../common/metrics.ts';
import { createScheduler, dueJobs, nextDue } from '../../../common/scheduler.ts';

function fakeClock(start = Date.parse('2026-12-01T00:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A job whose runs are resolved by the test, so overlap can be staged exactly. */
function controlledJob() {
  const pending: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  let started = 0;
  return {
    started: () => started,
    run: () => {
      started++;
      return new Promise((resolve, reject) => pending.push({ resolve, reject }));
    },
    finish: (v: unknown = 'done') => pending.shift()!.resolve(v),
    fail: (e: unknown) => pending.shift()!.reject(e),
  };
}

describe('timing (pure)', () => {
  it('nextDue steps by the period and collapses missed periods into one', () => {
    expect(nextDue(0, 10, 0)).toBe(10);
    expect(nextDue(0, 10, 10)).toBe(20);
    expect(nextDue(0, 10, 95)).toBe(100);
    expect(nextDue(0, 0, 5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('dueJobs lists the jobs whose time has come', () => {
    expect(
      dueJobs(
        new Map([
          ['a', 5],
          ['b', 10],
          ['c', 11],
        ]),
        10,
      ),
    ).toEqual(['a', 'b']);
  });
});

describe('createScheduler with a fake clock', () => {
  it('runs each job when due, records last run, duration and result, and the metrics', async () => {
    const clock = fakeClock();
    let watch = 0;
    const metrics = new MetricsRegistry();
    let reclusters = 0;
    const s = createScheduler({
      clock: clock.now,
      stopwatch: () => watch,
      metrics,
      jobs: [
        {
          name: 'recluster',
          everyMs: 60_000,
          run: async () => {
            watch += 42;
            reclusters++;
            return '8 clusters';
          },
        },
        {
          name: 'offline_evaluation',
          everyMs: 86_400_000,
          run: async () => {
            throw new Error('no logs yet');
          },
        },
      ],
    });
    s.start();
    await s.tick();
    expect(reclusters).toBe(0);
    clock.advance(60_000);
    await s.tick();
    expect(reclusters).toBe(1);
    const [r, e] = s.status();
    expect(r).toMatchObject({
      name: 'recluster',
      runs: 1,
      lastResult: 'ok',
      lastDurationMs: 42,
      lastDetail: '8 clusters',
      running: false,
    });
    expect(r!.lastRunMs).toBe(clock.now());
    expect(r!.nextDueMs).toBe(clock.now() + 60_000);
    expect(e).toMatchObject({ runs: 0, lastResult: null });
    expect(metrics.value('sentencify_job_last_run_timestamp_seconds', { job: 'recluster' })).toBe(
      clock.now() / 1000,
    );
    expect(metrics.value('sentencify_job_duration_ms', { job: 'recluster' })).toBe(42);
    expect(metrics.value('sentencify_job_last_result', { job: 'recluster' })).toBe(1);

    clock.advance(86_400_000);
    await s.tick();
    // A day later: recluster once more (missed minutes collapse), the daily job once, and it failed.
    expect(reclusters).toBe(2);
    expect(s.status()[1]).toMatchObject({
      runs: 1,
      failures: 1,
      lastResult: 'error',
      lastError: 'no logs yet',
    });
    expect(metrics.value('sentencify_job_last_result', { job: 'offline_evaluation' })).toBe(0);
    const text = await metrics.register.metrics();
    expect(text).toContain('sentencify_job_last_result{job="offline_evaluation"} 0');
    await s.stop();
  });

  it('never overlaps a job with itself: a due tick during a run is skipped, runNow joins it', async () => {
    const clock = fakeClock();
    const job = controlledJob();
    const s = createScheduler({ clock: clock.now, jobs: [{ name: 'export', everyMs: 1_000, run: job.run }] });
    s.start();
    clock.advance(1_000);
    const first = s.tick();
    expect(job.started()).toBe(1);
    expect(s.status()[0]!.running).toBe(true);
    clock.advance(1_000);
    await s.tick();
    const joined = s.runNow('export');
    expect(job.started()).toBe(1);
    expect(s.status()[0]!.overlapsSkipped).toBe(1);
    job.finish('file written');
    await first;
    expect((await joined).runs).toBe(1);
    // Once finished, runNow starts a fresh run.
    const again = s.runNow('export');
    expect(job.started()).toBe(2);
    job.fail(new Error('disk full'));
    expect(await again).toMatchObject({ runs: 2, lastResult: 'error', lastError: 'disk full' });
    await s.stop();
  });

  it('stop waits for the run in progress and disarms the timer', async () => {
    const clock = fakeClock();
    const job = controlledJob();
    const handles: unknown[] = [];
    const cleared: unknown[] = [];
    const s = createScheduler({
      clock: clock.now,
      jobs: [{ name: 'index_optimise', everyMs: 10, firstAfterMs: 0, run: job.run }],
      timers: {
        setInterval: () => {
          const h = { id: handles.length };
          handles.push(h);
          return h;
        },
        clearInterval: (h) => cleared.push(h),
      },
    });
    s.start();
    s.start();
    expect(handles).toHaveLength(1);
    void s.tick();
    let stopped = false;
    const stopping = s.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    job.finish();
    await stopping;
    expect(stopped).toBe(true);
    expect(cleared).toEqual(handles);
    expect(s.status()[0]!.nextDueMs).toBeNull();
  });

  it('refuses a duplicate job name, a zero period and an unknown job', async () => {
    const clock = fakeClock();
    const run = async () => {};
    expect(() =>
      createScheduler({
        clock: clock.now,
        jobs: [
          { name: 'a', everyMs: 1, run },
          { name: 'a', everyMs: 1, run },
        ],
      }),
    ).toThrow(/twice/);
    expect(() => createScheduler({ clock: clock.now, jobs: [{ name: 'a', everyMs: 0, run }] })).toThrow(
      /everyMs/,
    );
    await expect(createScheduler({ clock: clock.now, jobs: [] }).runNow('x')).rejects.toThrow(/no job/);
  });
});
