import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wheelJobs } from '../../../app/wheel-jobs.ts';
import { createScheduler } from '../../../common/scheduler.ts';
import { trainingExampleSchema } from '../../../schemas/index.ts';

const h = trainingExampleSchema.parse(
  JSON.parse(
    readFileSync(new URL('../../../schemas/examples/h-training-example.json', import.meta.url), 'utf8'),
  ),
);

function setup(opts: { index?: object; failRecluster?: boolean } = {}) {
  let now = Date.parse('2026-12-01T08:00:00Z');
  const files = new Map<string, string>();
  let reclusters = 0;
  const jobs = wheelJobs({
    recluster: () => ({
      now: async () => {
        if (opts.failRecluster) throw new Error('redis away');
        reclusters++;
      },
    }),
    reclusterEveryMs: 60_000,
    index: opts.index,
    examples: async () => [h, { ...h, revision: 2, event_id: `h:${h.recommend_session_id}:2` }],
    clock: () => now,
    output: { dir: 'reports/scheduled/', write: async (p, t) => void files.set(p, t) },
  });
  const scheduler = createScheduler({ jobs, clock: () => now });
  return { scheduler, files, reclusters: () => reclusters, advance: (ms: number) => (now += ms) };
}

describe('wheelJobs', () => {
  it('has the four jobs of the daily flow', () => {
    expect(
      setup()
        .scheduler.status()
        .map((s) => s.name),
    ).toEqual(['recluster', 'index_optimise', 'fine_tuning_export', 'offline_evaluation']);
  });

  it('writes the day’s export and offline evaluation, and a second run the same day writes the same files', async () => {
    const t = setup();
    const a = await t.scheduler.runNow('fine_tuning_export');
    expect(a.lastResult).toBe('ok');
    expect(a.lastDetail).toMatchObject({
      sessions: 1,
      lines: 1,
      path: 'reports/scheduled/fine-tuning-2026-12-01.jsonl',
    });
    const e = await t.scheduler.runNow('offline_evaluation');
    expect(e.lastResult).toBe('ok');
    const first = new Map(t.files);
    expect([...first.keys()].sort()).toEqual([
      'reports/scheduled/fine-tuning-2026-12-01.jsonl',
      'reports/scheduled/offline-evaluation-2026-12-01.json',
    ]);
    const report = JSON.parse(first.get('reports/scheduled/offline-evaluation-2026-12-01.json')!);
    expect(report.estimates.map((x: { policy: unknown }) => x.policy)).toEqual([
      { beta: 0.3 },
      { beta: 0.7 },
    ]);
    expect(report.estimates[0].sessions).toBe(1);
    await t.scheduler.runNow('fine_tuning_export');
    await t.scheduler.runNow('offline_evaluation');
    expect(t.files).toEqual(first);
  });

  it('optimises an index that has the step and says so when there is none', async () => {
    let optimised = 0;
    const withStep = setup({ index: { optimizeIndex: async () => ({ segments: 1, points: ++optimised }) } });
    expect((await withStep.scheduler.runNow('index_optimise')).lastDetail).toEqual({
      segments: 1,
      points: 1,
    });
    expect((await setup({ index: {} }).scheduler.runNow('index_optimise')).lastDetail).toMatch(
      /nothing to optimise/,
    );
  });

  it('re-clusters on the timer and records a failure as an error result', async () => {
    const t = setup();
    t.scheduler.start();
    t.advance(60_000);
    await t.scheduler.tick();
    expect(t.reclusters()).toBe(1);
    const f = setup({ failRecluster: true });
    expect(await f.scheduler.runNow('recluster')).toMatchObject({
      lastResult: 'error',
      lastError: 'redis away',
    });
  });
});
