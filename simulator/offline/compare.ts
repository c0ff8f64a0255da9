import {
  type OffPolicyEstimate,
  offPolicyEstimate,
  onPolicyValue,
  type TargetPolicy,
} from '../../analytics/counterfactual.ts';
import { type Interval, wilsonInterval } from '../../analytics/intervals.ts';
import { DEFAULT_SCORING_CONFIG } from '../../api/scoring/index.ts';
import type { EmbeddedWheel } from '../../app/embedded-wheel.ts';
import { type EvaluationOptions, inProcessClient, newWheel, wheelPacer } from '../run-evaluation.ts';
import { simulate } from '../simulate.ts';
import { decisionsOfLogs, logsOfWheel, type RunLogs } from './wheel-logs.ts';

export interface ComparisonRow {
  readonly metric: 'hit_at_1' | 'acceptance';
  readonly offline_ips: Interval;
  readonly offline_snips: Interval;
  /** The online run's value on its own logs, with its Wilson interval (for scale). */
  readonly online: Interval;
  /** The logging run's own value: how far the estimate had to move. */
  readonly logged: number;
  readonly ips_agrees: boolean;
  readonly snips_agrees: boolean;
}

/** The offline estimate of one changed setting next to an online run with it. */
export interface OfflineOnlineComparison {
  readonly logging: { alpha: number; beta: number; epsilon: number };
  readonly target: { alpha: number; beta: number; epsilon: number };
  readonly sessions: { offline: number; online: number };
  readonly effective_sample_size: number;
  /** Share of logged sessions whose greedy top the change would not move. */
  readonly same_top: number;
  readonly max_weight: number;
  readonly rows: readonly ComparisonRow[];
  /**
   * The online value lies in the SNIPS interval for both metrics. SNIPS is the headline: with
   * ε = 0.05 over 21 options a session whose greedy top the change moves weighs ~0.003 unless the
   * rare exploration showed the new top (weight ~380), so in a few hundred sessions IPS mostly sees
   * the small weights and its normal interval, blind to the large ones, sits low; SNIPS divides by
   * the weights seen. `ips_agrees` stays in each row.
   */
  readonly agree: boolean;
  readonly definition: string;
}

const DEFINITION =
  'hit_at_1 here: the option shown first is the one the user paraphrased with (not the persona’s preferred option of the table above); ' +
  'acceptance: the user kept a candidate. Offline: IPS/SNIPS over the default run’s logged A/H, 95 % normal intervals; ' +
  'online: the same seeded bots against a wheel with the changed β';

const inside = (x: number, i: Interval) => x >= i.low && x <= i.high;

/**
 * Pure: the comparison table from an offline estimate and the online run's logs.
 */
export function compareEstimate(
  estimate: OffPolicyEstimate,
  logging: OfflineOnlineComparison['logging'],
  target: OfflineOnlineComparison['target'],
  online: RunLogs,
): OfflineOnlineComparison {
  const on = onPolicyValue(decisionsOfLogs(online));
  const row = (metric: ComparisonRow['metric']): ComparisonRow => {
    const key = metric === 'hit_at_1' ? 'hitAt1' : 'acceptance';
    const value = on[key];
    const onlineI = wilsonInterval(Math.round(value * on.sessions), on.sessions);
    return {
      metric,
      offline_ips: estimate[key].ips,
      offline_snips: estimate[key].snips,
      online: onlineI,
      logged: estimate.logged[key],
      ips_agrees: inside(value, estimate[key].ips),
      snips_agrees: inside(value, estimate[key].snips),
    };
  };
  const rows = [row('hit_at_1'), row('acceptance')];
  return {
    logging,
    target,
    sessions: { offline: estimate.sessions, online: on.sessions },
    effective_sample_size: estimate.effectiveSampleSize,
    same_top: estimate.sameTop,
    max_weight: estimate.maxWeight,
    rows,
    agree: rows.every((r) => r.snips_agrees),
    definition: DEFINITION,
  };
}

/**
 * The offline-vs-online check of the evaluation report: estimates, from the logs of the run with
 * the default settings, what a changed β would have had (IPS, SNIPS), then runs the same seeded
 * bots against a fresh personalised wheel with that β and compares. The bots choose independently
 * of the ranking, so the online run sees the same sessions and the two should agree within the
 * interval.
 *
 * @example
 * const c = await offlineVsOnline(options, logsOfWheel(personalisedWheel), { beta: 0.3 });
 * c.agree; // true when the online value is inside the SNIPS interval of both metrics
 */
export async function offlineVsOnline(
  o: EvaluationOptions,
  logs: RunLogs,
  change: TargetPolicy,
): Promise<OfflineOnlineComparison> {
  const base = { ...DEFAULT_SCORING_CONFIG, ...o.scoring };
  const logging = { alpha: base.alpha, beta: base.beta, epsilon: base.epsilon };
  const target = { ...logging, ...change };
  const estimate = offPolicyEstimate(decisionsOfLogs(logs), target);
  const clusters = Math.max(2, Math.min(10, o.personas.length));
  const wheel = await newWheel(o.seed, true, clusters, { ...o.scoring, ...target });
  await simulate(
    {
      personas: o.personas,
      contexts: o.contexts,
      sessions: o.sessions,
      seed: o.seed,
      usersPerPersona: o.usersPerPersona,
    },
    inProcessClient(wheel),
    wheelPacer(wheel),
  );
  await wheel.settle();
  return compareEstimate(estimate, logging, target, logsOfWheel(wheel));
}

/** The comparison as terminal lines. */
export function formatComparison(c: OfflineOnlineComparison): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const iv = (i: Interval) => `${pct(i.estimate)} [${pct(i.low)}, ${pct(i.high)}]`;
  const lines = [
    `  offline vs online: β ${c.logging.beta} → ${c.target.beta} (α ${c.target.alpha}, ε ${c.target.epsilon}); ${c.sessions.offline} logged sessions, effective ${c.effective_sample_size.toFixed(0)}, greedy top unchanged in ${pct(c.same_top)}`,
    `  ${'metric'.padEnd(11)} ${'logged'.padStart(7)}  ${'offline IPS'.padEnd(24)} ${'offline SNIPS'.padEnd(24)} ${'online'.padEnd(24)} agree`,
  ];
  for (const r of c.rows) {
    lines.push(
      `  ${r.metric.padEnd(11)} ${pct(r.logged).padStart(7)}  ${iv(r.offline_ips).padEnd(24)} ${iv(r.offline_snips).padEnd(24)} ${iv(r.online).padEnd(24)} SNIPS ${r.snips_agrees ? 'yes' : 'no'}, IPS ${r.ips_agrees ? 'yes' : 'no'}`,
    );
  }
  lines.push(
    `  ${c.agree ? 'the offline estimate (SNIPS) agrees with the online run within its interval' : 'the offline estimate (SNIPS) does NOT agree with the online run within its interval'}`,
  );
  return lines.join('\n');
}

/**
 * The evaluation report's hook: hands the personalised pass's logs to `onLogs` and, when
 * `compareBeta` is set, adds the offline-vs-online comparison for that β.
 */
export async function offlineSection(
  o: EvaluationOptions & { compareBeta?: number; onLogs?: (logs: RunLogs) => void },
  wheel: Pick<EmbeddedWheel, 'log' | 'config'>,
): Promise<{ offline_vs_online?: OfflineOnlineComparison }> {
  if (o.compareBeta === undefined && !o.onLogs) return {};
  const logs = logsOfWheel(wheel);
  o.onLogs?.(logs);
  if (o.compareBeta === undefined) return {};
  return { offline_vs_online: await offlineVsOnline(o, logs, { beta: o.compareBeta }) };
}
