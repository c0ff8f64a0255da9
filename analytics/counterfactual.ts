/**
 * Counterfactual (off-policy) evaluation of the scorer: what hit@1 and acceptance another
 * (α, β, ε) would have had, from the sessions the logging policy actually ran — no new traffic.
 *
 * Every A logs, per option, the four score components (P_vec, P_doc, P_user, P_cluster) and the
 * propensity of being shown at rank 1 under the ε-greedy policy that ran (api/scoring/exploration.ts).
 * The target policy's rank-1 propensities are recomputed from the same components with the
 * scorer's blend and its `explore`, and each session is weighed by
 *
 *   w = π_target(shown first) / π_logged(shown first)
 *
 * IPS:   V̂ = (1/n) Σ w·r                  (unbiased; variance grows with the weights)
 * SNIPS: V̂ = Σ w·r / Σ w                  (self-normalised: slightly biased, much less variance)
 *
 * Intervals are normal (CLT) at `confidence`: IPS from the sample sd of w·r, SNIPS by the delta
 * method from w·(r − V̂). Rewards: hit@1 = the option shown first is the one the user paraphrased
 * with; acceptance = the user kept a candidate (outcome accepted or edited). Pure.
 */

import { indexOptions } from '../api/scoring/components.ts';
import { explore } from '../api/scoring/exploration.ts';
import { DEFAULT_VOCABULARY, type OptionVocabulary, type TrainingExample } from '../schemas/index.ts';
import { type Interval, zFor } from './intervals.ts';

export interface LoggedOption {
  readonly key: string;
  readonly score: number;
  readonly propensity: number;
  readonly components: {
    readonly vec: number;
    readonly doc: number;
    readonly user: number;
    readonly cluster: number;
  };
}

/** One logged recommend session as the estimators read it. */
export interface LoggedDecision {
  readonly sessionId: string;
  /** Options as logged, rank 1 first. */
  readonly options: readonly LoggedOption[];
  readonly alpha: number;
  readonly beta: number;
  /** As logged in A; from H (which does not carry it) inferred as 1 − the largest propensity. */
  readonly epsilon: number;
  /** The option paraphrased with (null: a free style request, or no paraphrase). */
  readonly chosen: string | null;
  /** The user kept a candidate. */
  readonly accepted: boolean;
}

/** A target policy; an omitted field keeps the logged value of each session. */
export interface TargetPolicy {
  readonly alpha?: number;
  readonly beta?: number;
  readonly epsilon?: number;
}

const keyOf = (o: { category: string; intensity: string }) => `${o.category}:${o.intensity}`;

/** ε from the logged propensities of ε-greedy: the greedy top has 1 − ε (0 for a single option). */
export function inferEpsilon(options: readonly { propensity: number }[]): number {
  if (options.length < 2) return 0;
  return Math.min(1, Math.max(0, 1 - Math.max(...options.map((o) => o.propensity))));
}

/**
 * The decision an H records (its A's options, α, β, what the user chose and kept); null when H
 * has no A. ε is inferred from the propensities unless given (A logs it; H does not).
 *
 * @example
 * const decisions = examples.map((h) => decisionFromExample(h)).filter((d) => d !== null);
 */
export function decisionFromExample(h: TrainingExample, epsilon?: number): LoggedDecision | null {
  const a = h.recommended;
  if (!a || a.options.length === 0) return null;
  const options = [...a.options]
    .sort((x, y) => x.rank - y.rank)
    .map((o) => ({ key: keyOf(o), score: o.score, propensity: o.propensity, components: o.components }));
  return {
    sessionId: h.recommend_session_id,
    options,
    alpha: a.alpha,
    beta: a.beta,
    epsilon: epsilon ?? inferEpsilon(options),
    chosen: h.chosen_option ? keyOf(h.chosen_option) : null,
    accepted: h.outcome === 'accepted' || h.outcome === 'edited',
  };
}

/**
 * The latest revision of each session's H, as decisions (H without an A left out).
 *
 * @example
 * offPolicyEstimate(decisionsFromExamples(h), { beta: 0.4 });
 */
export function decisionsFromExamples(examples: Iterable<TrainingExample>): LoggedDecision[] {
  const latest = new Map<string, TrainingExample>();
  for (const h of examples) {
    const prev = latest.get(h.recommend_session_id);
    if (!prev || h.revision > prev.revision) latest.set(h.recommend_session_id, h);
  }
  const out: LoggedDecision[] = [];
  for (const h of [...latest.values()].sort((x, y) =>
    x.recommend_session_id < y.recommend_session_id ? -1 : 1,
  )) {
    const d = decisionFromExample(h);
    if (d) out.push(d);
  }
  return out;
}

/**
 * The user's share w of P_user' = w·P_user + (1 − w)·P_cluster, which A does not log but its
 * scores determine: score = (1 − α − β)·vec + α·doc + β·(w·user + (1 − w)·cluster), solved on the
 * option where user and cluster differ most. Null when it cannot matter (user = cluster on every
 * option) or cannot be recovered (β = 0 logged).
 */
export function recoverUserShare(d: LoggedDecision): number | null {
  let best: LoggedOption | null = null;
  for (const o of d.options) {
    if (
      !best ||
      Math.abs(o.components.user - o.components.cluster) >
        Math.abs(best.components.user - best.components.cluster)
    )
      best = o;
  }
  if (!best) return null;
  const gap = best.components.user - best.components.cluster;
  if (Math.abs(gap) < 1e-12 || d.beta <= 0) return null;
  const c = best.components;
  const rest = best.score - Math.max(0, 1 - d.alpha - d.beta) * c.vec - d.alpha * c.doc - d.beta * c.cluster;
  return Math.min(1, Math.max(0, rest / (d.beta * gap)));
}

/** Scores closer than this are a tie, broken in vocabulary order as the scorer does. */
const TIE = 1e-12;

/**
 * The target policy's ranking of the logged options: scores re-blended from the logged
 * components with the target α, β (api/scoring/score-options.ts's P_final), ties in vocabulary
 * order, then the scorer's own ε-greedy `explore` for the rank-1 propensities.
 */
export function targetRanking(
  d: LoggedDecision,
  policy: TargetPolicy,
  vocabulary: OptionVocabulary = DEFAULT_VOCABULARY,
): { greedy: number[]; propensity: Float64Array } {
  const alpha = policy.alpha ?? d.alpha;
  const beta = policy.beta ?? d.beta;
  const epsilon = policy.epsilon ?? d.epsilon;
  const w = recoverUserShare(d) ?? 0;
  const vecWeight = Math.max(0, 1 - alpha - beta);
  const n = d.options.length;
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = d.options[i]!.components;
    const userBlend = w * c.user + (1 - w) * c.cluster;
    score[i] = vecWeight * c.vec + alpha * c.doc + beta * userBlend;
  }
  const vocab = indexOptions(vocabulary).index;
  const order = (i: number) => vocab.get(d.options[i]!.key) ?? vocab.size + i;
  const greedy = Array.from({ length: n }, (_, i) => i).sort((x, y) => {
    const diff = score[y]! - score[x]!;
    return Math.abs(diff) > TIE ? diff : order(x) - order(y);
  });
  return { greedy, propensity: explore(greedy, epsilon, 0).propensity };
}

/**
 * The target policy's rank-1 propensity of every logged option (in the logged order).
 *
 * @example
 * targetPropensities(decision, { beta: 0.4 }); // Float64Array, one per logged option, sums to 1
 */
export function targetPropensities(
  d: LoggedDecision,
  policy: TargetPolicy,
  vocabulary: OptionVocabulary = DEFAULT_VOCABULARY,
): Float64Array {
  return targetRanking(d, policy, vocabulary).propensity;
}

export interface EstimatorResult {
  readonly ips: Interval;
  readonly snips: Interval;
}

export interface OffPolicyEstimate {
  /** The target as asked (an omitted field: each session's logged value). */
  readonly policy: TargetPolicy;
  /** Sessions used (an A whose shown option has a logged propensity > 0). */
  readonly sessions: number;
  /** Sessions left out: no positive logged propensity for the option shown first. */
  readonly skipped: number;
  readonly hitAt1: EstimatorResult;
  readonly acceptance: EstimatorResult;
  /** What the logging policy itself had on these sessions (on-policy means). */
  readonly logged: { readonly hitAt1: number; readonly acceptance: number };
  /** Kish's effective sample size (Σw)² / Σw²: how many sessions the estimate is worth. */
  readonly effectiveSampleSize: number;
  readonly meanWeight: number;
  readonly maxWeight: number;
  /** Share of sessions whose target greedy top is the logged greedy top. */
  readonly sameTop: number;
  /** Sessions where the user's share w could not be recovered and 0 was assumed (β = 0 logged). */
  readonly userShareUnknown: number;
}

function clampInterval(estimate: number, half: number, confidence: number): Interval {
  return { estimate, low: Math.max(0, estimate - half), high: Math.min(1, estimate + half), confidence };
}

function estimators(w: Float64Array, r: Float64Array, z: number, confidence: number): EstimatorResult {
  const n = w.length;
  if (n === 0) {
    const none = { estimate: Number.NaN, low: 0, high: 1, confidence };
    return { ips: none, snips: none };
  }
  let sumWr = 0;
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    sumWr += w[i]! * r[i]!;
    sumW += w[i]!;
  }
  const ips = sumWr / n;
  let ssIps = 0;
  for (let i = 0; i < n; i++) ssIps += (w[i]! * r[i]! - ips) ** 2;
  const sdIps = n > 1 ? Math.sqrt(ssIps / (n - 1)) : 0;
  const snips = sumW > 0 ? sumWr / sumW : Number.NaN;
  let ssSn = 0;
  for (let i = 0; i < n; i++) ssSn += (w[i]! * (r[i]! - (Number.isNaN(snips) ? 0 : snips))) ** 2;
  const meanW = sumW / n;
  // Delta method: Var(SNIPS) ≈ E[w²(r − V)²] / (n·E[w]²).
  const seSn = meanW > 0 ? Math.sqrt(ssSn / n / n) / meanW : Number.POSITIVE_INFINITY;
  return {
    ips: clampInterval(ips, (z * sdIps) / Math.sqrt(n), confidence),
    snips: Number.isNaN(snips)
      ? { estimate: Number.NaN, low: 0, high: 1, confidence }
      : clampInterval(snips, z * seSn, confidence),
  };
}

/**
 * IPS and SNIPS estimates, with normal intervals, of the hit@1 and acceptance the target policy
 * would have had on the logged sessions. With the logging policy's own α, β, ε as target every
 * weight is 1 and both equal the logged means.
 *
 * @example
 * const e = offPolicyEstimate(decisionsFromExamples(h), { alpha: 0.2, beta: 0.4, epsilon: 0.05 });
 * e.hitAt1.snips; // { estimate: 0.61, low: 0.55, high: 0.67, confidence: 0.95 }
 */
export function offPolicyEstimate(
  decisions: readonly LoggedDecision[],
  policy: TargetPolicy,
  o: { confidence?: number; vocabulary?: OptionVocabulary } = {},
): OffPolicyEstimate {
  const confidence = o.confidence ?? 0.95;
  const z = zFor(confidence);
  const used = decisions.filter((d) => d.options.length > 0 && d.options[0]!.propensity > 0);
  const n = used.length;
  const w = new Float64Array(n);
  const hit = new Float64Array(n);
  const acc = new Float64Array(n);
  let sameTop = 0;
  let unknown = 0;
  let loggedHit = 0;
  let loggedAcc = 0;
  used.forEach((d, i) => {
    const target = targetRanking(d, policy, o.vocabulary);
    w[i] = target.propensity[0]! / d.options[0]!.propensity;
    hit[i] = d.chosen !== null && d.options[0]!.key === d.chosen ? 1 : 0;
    acc[i] = d.accepted ? 1 : 0;
    loggedHit += hit[i]!;
    loggedAcc += acc[i]!;
    if (targetRanking(d, {}, o.vocabulary).greedy[0] === target.greedy[0]) sameTop++;
    if (
      recoverUserShare(d) === null &&
      d.beta <= 0 &&
      d.options.some((x) => x.components.user !== x.components.cluster)
    )
      unknown++;
  });
  let sumW = 0;
  let sumW2 = 0;
  let maxW = 0;
  for (const x of w) {
    sumW += x;
    sumW2 += x * x;
    if (x > maxW) maxW = x;
  }
  return {
    policy,
    sessions: n,
    skipped: decisions.length - n,
    hitAt1: estimators(w, hit, z, confidence),
    acceptance: estimators(w, acc, z, confidence),
    logged: { hitAt1: n > 0 ? loggedHit / n : Number.NaN, acceptance: n > 0 ? loggedAcc / n : Number.NaN },
    effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
    meanWeight: n > 0 ? sumW / n : Number.NaN,
    maxWeight: maxW,
    sameTop: n > 0 ? sameTop / n : Number.NaN,
    userShareUnknown: unknown,
  };
}

/**
 * The on-policy value of a run, for comparing an offline estimate with an online run: the share
 * of sessions whose rank-1 option was the one used (hit@1) and whose candidate was kept.
 */
export function onPolicyValue(decisions: readonly LoggedDecision[]): {
  sessions: number;
  hitAt1: number;
  acceptance: number;
} {
  const n = decisions.length;
  let hit = 0;
  let acc = 0;
  for (const d of decisions) {
    if (d.chosen !== null && d.options[0]?.key === d.chosen) hit++;
    if (d.accepted) acc++;
  }
  return { sessions: n, hitAt1: n > 0 ? hit / n : Number.NaN, acceptance: n > 0 ? acc / n : Number.NaN };
}
