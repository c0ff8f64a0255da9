/**
 * An always-valid sequential test of the A/B difference in acceptance, so the dashboard can be
 * looked at every few seconds without inflating the false-positive rate (the problem with
 * re-running a fixed-n z-test on every refresh).
 *
 * The test is the mixture sequential probability ratio test (mSPRT, Johari, Koomen, Pekelis &
 * Walsh, "Always valid inference", 2017/2022) on the normal approximation of
 * θ̂ = p̂_B − p̂_A with variance V = p̂_A(1 − p̂_A)/n_A + p̂_B(1 − p̂_B)/n_B and a normal mixture
 * N(0, τ²) over θ under H1:
 *
 *   Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2V(V + τ²)))
 *
 * Under H0 (θ = 0) Λ is a non-negative martingale, so by Ville's inequality
 * P(Λ ever ≥ 1/α) ≤ α: p = min(1, 1/Λ) is valid whenever it is read, and the confidence
 * sequence θ̂ ± √(V(V + τ²)/τ² · (log((V + τ²)/V) − 2 log α)) covers θ at all times at once.
 * p̂ in V is smoothed ((x + 1)/(n + 2)) so that 0 or 100 % acceptance does not make V zero.
 */
import type { Interval } from './intervals.ts';

/** One arm of the experiment: sessions and how many were accepted. */
export interface ArmCounts {
  readonly n: number;
  readonly successes: number;
}

export interface SequentialOptions {
  /** Type-I error bound over the whole experiment (default 0.05). */
  readonly alpha?: number;
  /** Prior sd τ of the difference under H1: the effect size the test is most sensitive to (default 0.05 = 5 points). */
  readonly tau?: number;
  /** Fewer sessions in either arm: 'insufficient data', no verdict (default 30). */
  readonly minPerArm?: number;
}

export const DEFAULT_SEQUENTIAL: Required<SequentialOptions> = Object.freeze({
  alpha: 0.05,
  tau: 0.05,
  minPerArm: 30,
});

export type SequentialVerdict = 'B better' | 'A better' | 'no difference yet' | 'insufficient data';

export interface SequentialResult {
  readonly verdict: SequentialVerdict;
  /** Always-valid p-value of θ = 0 at this look. */
  readonly pValue: number;
  /** log Λ, the mixture likelihood ratio. */
  readonly logLikelihoodRatio: number;
  /** p̂_B − p̂_A with its (1 − α) confidence sequence. */
  readonly difference: Interval;
  readonly alpha: number;
  readonly tau: number;
  readonly n: { readonly a: number; readonly b: number };
}

/**
 * The mSPRT verdict at one look: 'B better' or 'A better' once the always-valid p-value is at
 * most α (the confidence sequence then excludes 0), else 'no difference yet'.
 *
 * @example
 * sequentialTest({ n: 1200, successes: 360 }, { n: 1180, successes: 450 });
 * // { verdict: 'B better', pValue: 1.2e-7, difference: { estimate: 0.081, low: 0.03, high: 0.13 }, … }
 */
export function sequentialTest(a: ArmCounts, b: ArmCounts, o: SequentialOptions = {}): SequentialResult {
  const { alpha, tau, minPerArm } = { ...DEFAULT_SEQUENTIAL, ...o };
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tau > 0)) throw new RangeError(`tau must be > 0, got ${tau}`);
  for (const [name, arm] of [['a', a] as const, ['b', b] as const]) {
    if (!(arm.n >= 0) || !(arm.successes >= 0) || arm.successes > arm.n) {
      throw new RangeError(`arm ${name}: need 0 <= successes <= n, got ${arm.successes} of ${arm.n}`);
    }
  }
  const pA = a.n > 0 ? a.successes / a.n : Number.NaN;
  const pB = b.n > 0 ? b.successes / b.n : Number.NaN;
  const theta = pB - pA;
  const n = { a: a.n, b: b.n };
  if (a.n < Math.max(1, minPerArm) || b.n < Math.max(1, minPerArm)) {
    return {
      verdict: 'insufficient data',
      pValue: 1,
      logLikelihoodRatio: 0,
      difference: { estimate: theta, low: -1, high: 1, confidence: 1 - alpha },
      alpha,
      tau,
      n,
    };
  }
  const sA = (a.successes + 1) / (a.n + 2);
  const sB = (b.successes + 1) / (b.n + 2);
  const v = (sA * (1 - sA)) / a.n + (sB * (1 - sB)) / b.n;
  const t2 = tau * tau;
  const logL = 0.5 * Math.log(v / (v + t2)) + (t2 * theta * theta) / (2 * v * (v + t2));
  const pValue = Math.min(1, Math.exp(-logL));
  const half = Math.sqrt(((v * (v + t2)) / t2) * (Math.log((v + t2) / v) - 2 * Math.log(alpha)));
  const verdict: SequentialVerdict =
    pValue <= alpha ? (theta > 0 ? 'B better' : 'A better') : 'no difference yet';
  return {
    verdict,
    pValue,
    logLikelihoodRatio: logL,
    difference: {
      estimate: theta,
      low: Math.max(-1, theta - half),
      high: Math.min(1, theta + half),
      confidence: 1 - alpha,
    },
    alpha,
    tau,
    n,
  };
}

/** What the guardrails compare per arm; null when unknown (no latency logged, nothing accepted). */
export interface GuardrailInputs {
  readonly latencyP95Ms: number | null;
  readonly costPerAccepted: number | null;
}

export interface GuardrailTolerances {
  /** B's p95 LLM latency may exceed A's by this share (default 0.1 = 10 %). */
  readonly latencyP95?: number;
  /** B's cost per accepted suggestion may exceed A's by this share (default 0.1). */
  readonly costPerAccepted?: number;
}

export const DEFAULT_GUARDRAIL_TOLERANCES: Required<GuardrailTolerances> = Object.freeze({
  latencyP95: 0.1,
  costPerAccepted: 0.1,
});

export interface GuardrailCheck {
  readonly name: 'latency_p95' | 'cost_per_accepted';
  readonly a: number | null;
  readonly b: number | null;
  /** B's limit: A's value × (1 + tolerance). */
  readonly limit: number | null;
  readonly tolerance: number;
  /** false only when both values are known and B is over the limit. */
  readonly ok: boolean;
}

/**
 * The guardrails: B may not be slower (p95 LLM latency) or dearer (cost per accepted suggestion)
 * than A by more than a tolerance. A guardrail with a missing side passes (nothing to compare).
 *
 * @example
 * checkGuardrails({ latencyP95Ms: 400, costPerAccepted: 0.001 }, { latencyP95Ms: 520, costPerAccepted: 0.001 });
 * // latency_p95 fails: 520 > 440
 */
export function checkGuardrails(
  a: GuardrailInputs,
  b: GuardrailInputs,
  tolerances: GuardrailTolerances = {},
): GuardrailCheck[] {
  const t = { ...DEFAULT_GUARDRAIL_TOLERANCES, ...tolerances };
  const check = (
    name: GuardrailCheck['name'],
    x: number | null,
    y: number | null,
    tol: number,
  ): GuardrailCheck => {
    const known = x !== null && y !== null && Number.isFinite(x) && Number.isFinite(y);
    const limit = known ? x! * (1 + tol) : null;
    return { name, a: x, b: y, limit, tolerance: tol, ok: !known || y! <= limit! };
  };
  return [
    check('latency_p95', a.latencyP95Ms, b.latencyP95Ms, t.latencyP95),
    check('cost_per_accepted', a.costPerAccepted, b.costPerAccepted, t.costPerAccepted),
  ];
}

export type AbDecision = 'ship B' | 'keep A' | 'keep running' | 'blocked by guardrail';

/**
 * What to do: 'ship B' only when B is better and every guardrail holds; 'blocked by guardrail'
 * when B is better but slower or dearer beyond the tolerance; 'keep A' when A is better.
 *
 * @example
 * decide(sequentialTest(a, b), checkGuardrails(ga, gb)); // { decision: 'ship B', blockedBy: [] }
 */
export function decide(
  test: SequentialResult,
  guardrails: readonly GuardrailCheck[],
): { decision: AbDecision; blockedBy: GuardrailCheck['name'][] } {
  const blockedBy = guardrails.filter((g) => !g.ok).map((g) => g.name);
  if (test.verdict === 'B better')
    return blockedBy.length > 0
      ? { decision: 'blocked by guardrail', blockedBy }
      : { decision: 'ship B', blockedBy };
  if (test.verdict === 'A better') return { decision: 'keep A', blockedBy };
  return { decision: 'keep running', blockedBy };
}
