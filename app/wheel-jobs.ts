/**
 * The wheel's scheduled jobs (the seeds' daily flow, here continuous plus timers), as `JobSpec`s
 * for `createScheduler`: each is a small function over the adapters it is given, and each is
 * idempotent — re-clustering replaces J, Qdrant's optimisation returns at once on an optimised
 * collection, and the daily files are named by the day, so a second run the same day rewrites the
 * same content.
 */
import { decisionsFromExamples, offPolicyEstimate, type TargetPolicy } from '../analytics/counterfactual.ts';
import type { JobSpec } from '../common/scheduler.ts';
import type { TrainingExample } from '../schemas/index.ts';
import { toChatExamples } from '../simulator/export/fine-tuning.ts';
import { decodeExample } from '../streams/codec/session-codec.ts';
import type { LogRecord } from '../streams/log/event-log.ts';

export const DAY_MS = 86_400_000;

export const WHEEL_JOBS = [
  'recluster',
  'index_optimise',
  'fine_tuning_export',
  'offline_evaluation',
] as const;

export interface WheelJobsOptions {
  /** The re-clustering job of the running topology (a getter: the embedded wheel swaps topologies). */
  readonly recluster: () => { now(): Promise<void> } | null | undefined;
  readonly reclusterEveryMs: number;
  /** The vector index; only Qdrant has an optimisation step (the in-process index needs none). */
  readonly index?: object | null;
  /** Default 6 h. */
  readonly optimiseEveryMs?: number;
  /** H as the views hold it (latest revisions or more; the jobs keep the latest per session). */
  readonly examples?: () => Promise<readonly TrainingExample[]>;
  /** Period of the export and the offline evaluation (default a day). */
  readonly dailyMs?: number;
  /** Event-time clock, for the day in the file names. */
  readonly clock: () => number;
  /** Where the daily files go; without it the jobs keep their summary in the status only. */
  readonly output?: { readonly dir: string; write(path: string, text: string): Promise<void> };
  /** Policies the daily offline evaluation estimates (default: β 0.3 and 0.7, the rest as logged). */
  readonly offlineTargets?: readonly TargetPolicy[];
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * @example
 * const scheduler = createScheduler({
 *   jobs: wheelJobs({ recluster: () => topology.recluster, reclusterEveryMs: 60_000, index, examples, clock }),
 *   clock, metrics, timers: globalThis,
 * });
 */
export function wheelJobs(o: WheelJobsOptions): JobSpec[] {
  const daily = o.dailyMs ?? DAY_MS;
  const examples = o.examples ?? (async () => []);
  const targets = o.offlineTargets ?? [{ beta: 0.3 }, { beta: 0.7 }];
  const write = async (name: string, text: string) => {
    if (!o.output) return null;
    const path = `${o.output.dir.replace(/\/+$/, '')}/${name}`;
    await o.output.write(path, text);
    return path;
  };
  return [
    {
      name: 'recluster',
      everyMs: o.reclusterEveryMs,
      run: async () => {
        const job = o.recluster();
        if (!job) return 'no re-clustering in this process';
        await job.now();
        return 're-clustered';
      },
    },
    {
      name: 'index_optimise',
      everyMs: o.optimiseEveryMs ?? 6 * 3600_000,
      run: async () => {
        const optimise = (o.index as { optimizeIndex?: () => Promise<unknown> } | null | undefined)
          ?.optimizeIndex;
        if (typeof optimise !== 'function') return 'nothing to optimise (in-process index)';
        return (await optimise.call(o.index)) ?? 'optimised';
      },
    },
    {
      name: 'fine_tuning_export',
      everyMs: daily,
      run: async () => {
        const r = toChatExamples([...(await examples())]);
        const path = await write(
          `fine-tuning-${day(o.clock())}.jsonl`,
          r.lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
        );
        return { sessions: r.sessions, lines: r.lines.length, skipped: r.skipped, path };
      },
    },
    {
      name: 'offline_evaluation',
      everyMs: daily,
      run: async () => {
        const decisions = decisionsFromExamples(await examples());
        const estimates = targets.map((t) => {
          const e = offPolicyEstimate(decisions, t);
          return {
            policy: t,
            sessions: e.sessions,
            hit_at_1: { ips: e.hitAt1.ips, snips: e.hitAt1.snips },
            acceptance: { ips: e.acceptance.ips, snips: e.acceptance.snips },
            logged: e.logged,
            effective_sample_size: r4(e.effectiveSampleSize),
          };
        });
        const path = await write(
          `offline-evaluation-${day(o.clock())}.json`,
          `${JSON.stringify({ estimates }, null, 2)}\n`,
        );
        return {
          sessions: decisions.length,
          path,
          snips_hit_at_1: estimates.map((e) => ({
            policy: e.policy,
            estimate: r4(e.hit_at_1.snips.estimate),
          })),
        };
      },
    },
  ];
}

/**
 * H as a log holds it (the embedded wheel's source for the daily jobs); records that do not
 * decode are left out, the join dead-letters those.
 */
export function examplesInLog(log: { read(topic: string): LogRecord[] }, topic: string): TrainingExample[] {
  const out: TrainingExample[] = [];
  for (const rec of log.read(topic)) {
    const h = decodeExample(rec);
    if (!('code' in h)) out.push(h);
  }
  return out;
}
