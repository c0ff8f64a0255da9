/**
 * The A/B experiment's numbers from H: per-variant acceptance with 95 % intervals, tokens, LLM
 * latency percentiles, cost per accepted suggestion, and the always-valid sequential verdict with
 * its guardrails. Pure: the dashboard feeds it H from the views, the evaluation report from a run.
 */
import type { TrainingExample } from '../schemas/index.ts';
import { type CostSummary, costPerAccepted, DEFAULT_TOKEN_PRICE, type TokenPrice } from './cost.ts';
import { type Interval, latencyPercentiles, moments, wilsonInterval } from './intervals.ts';
import {
  type AbDecision,
  checkGuardrails,
  decide,
  type GuardrailCheck,
  type GuardrailTolerances,
  type SequentialOptions,
  type SequentialResult,
  sequentialTest,
} from './sequential.ts';

/** What one variant's sessions did, summed: the input of `abSummary`. */
export interface VariantOutcomes {
  /** The LLM variant ('A' control, 'B' the new model), as stamped on B. */
  readonly variant: string;
  /** Sessions that reached the paraphraser (H with at least one B). */
  readonly sessions: number;
  /** Sessions whose user kept a candidate: outcome 'accepted' or 'edited'. */
  readonly accepted: number;
  /** Of `accepted`, the ones kept after an edit. */
  readonly edited: number;
  /** Paraphrase calls (a session may ask more than once). */
  readonly paraphrases: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** LLM latency of every paraphrase call that logged one, in ms. */
  readonly latenciesMs: readonly number[];
}

/** An empty fold for a variant. */
export function emptyOutcomes(variant: string): VariantOutcomes {
  return {
    variant,
    sessions: 0,
    accepted: 0,
    edited: 0,
    paraphrases: 0,
    promptTokens: 0,
    completionTokens: 0,
    latenciesMs: [],
  };
}

type MutableOutcomes = { -readonly [K in keyof VariantOutcomes]: VariantOutcomes[K] } & {
  latenciesMs: number[];
};

export interface FoldOptions {
  /** Keep only some H (e.g. `h => h.consistency !== 'low'`); default: all. */
  readonly include?: (h: TrainingExample) => boolean;
}

/**
 * Folds H records into per-variant outcomes. H is revised as late events arrive, so only the
 * highest revision of each session counts; sessions without a paraphrase (B) never met an LLM and
 * are left out. A session belongs to the variant of its last paraphrase (assignment is sticky per
 * user, so all of a session's paraphrases share it). Older H without usage fields count 0 tokens
 * and no latency. Variants come out sorted by name ('A' first).
 *
 * @example
 * const outcomes = foldExamples(await examples.latest());
 * abSummary(outcomes).variants[0].acceptance; // { estimate, low, high, confidence: 0.95 }
 */
export function foldExamples(examples: Iterable<TrainingExample>, o: FoldOptions = {}): VariantOutcomes[] {
  const latest = new Map<string, TrainingExample>();
  for (const h of examples) {
    const prev = latest.get(h.recommend_session_id);
    if (!prev || h.revision > prev.revision) latest.set(h.recommend_session_id, h);
  }
  const acc = new Map<string, MutableOutcomes>();
  for (const h of latest.values()) {
    if (h.paraphrases.length === 0 || (o.include && !o.include(h))) continue;
    const variant = h.paraphrases[h.paraphrases.length - 1]!.variant;
    let v = acc.get(variant);
    if (!v) {
      v = { ...emptyOutcomes(variant), latenciesMs: [] };
      acc.set(variant, v);
    }
    v.sessions += 1;
    if (h.outcome === 'accepted' || h.outcome === 'edited') v.accepted += 1;
    if (h.outcome === 'edited') v.edited += 1;
    for (const p of h.paraphrases) {
      v.paraphrases += 1;
      v.promptTokens += p.prompt_tokens ?? 0;
      v.completionTokens += p.completion_tokens ?? 0;
      if (p.latency_ms !== undefined) v.latenciesMs.push(p.latency_ms);
    }
  }
  return [...acc.values()].sort((x, y) => (x.variant < y.variant ? -1 : x.variant > y.variant ? 1 : 0));
}

export interface VariantSummary {
  readonly variant: string;
  readonly sessions: number;
  readonly accepted: number;
  readonly edited: number;
  /** accepted / sessions with its Wilson interval. */
  readonly acceptance: Interval;
  readonly paraphrases: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** (prompt + completion tokens) / sessions; NaN without sessions. */
  readonly tokensPerSession: number;
  /** LLM latency per paraphrase call, ms (NaN when none logged). */
  readonly latency: {
    readonly mean: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly n: number;
  };
  readonly cost: CostSummary;
}

export interface AbOptions {
  /** The control variant (default 'A'). */
  readonly control?: string;
  /** The variant tested against it (default 'B'). */
  readonly treatment?: string;
  readonly price?: TokenPrice;
  /** Confidence of the per-variant acceptance intervals (default 0.95). */
  readonly confidence?: number;
  readonly sequential?: SequentialOptions;
  readonly guardrails?: GuardrailTolerances;
}

export interface AbSummary {
  readonly control: string;
  readonly treatment: string;
  /** Every variant present, sorted by name (the control and treatment even when empty). */
  readonly variants: readonly VariantSummary[];
  /** Treatment against control; 'insufficient data' while either is small or missing. */
  readonly test: SequentialResult;
  readonly guardrails: readonly GuardrailCheck[];
  readonly decision: AbDecision;
  readonly blockedBy: readonly GuardrailCheck['name'][];
  readonly price: TokenPrice;
}

/** One variant's numbers from its outcomes. */
export function summariseVariant(
  v: VariantOutcomes,
  price: TokenPrice = DEFAULT_TOKEN_PRICE,
  confidence = 0.95,
): VariantSummary {
  const lat = latencyPercentiles(v.latenciesMs);
  return {
    variant: v.variant,
    sessions: v.sessions,
    accepted: v.accepted,
    edited: v.edited,
    acceptance: wilsonInterval(v.accepted, v.sessions, confidence),
    paraphrases: v.paraphrases,
    promptTokens: v.promptTokens,
    completionTokens: v.completionTokens,
    tokensPerSession: v.sessions > 0 ? (v.promptTokens + v.completionTokens) / v.sessions : Number.NaN,
    latency: { mean: moments(v.latenciesMs).mean, ...lat, n: v.latenciesMs.length },
    cost: costPerAccepted(v, price),
  };
}

/**
 * The A/B panel's numbers: per variant acceptance (Wilson 95 %), tokens, LLM latency p50/p95/p99,
 * cost per accepted suggestion, and treatment vs control: the mSPRT verdict (`sequentialTest`),
 * the latency and cost guardrails (`checkGuardrails`) and the decision (`decide`).
 *
 * @example
 * const s = abSummary(foldExamples(h), { price: priceFrom({ promptPer1k: 0.0025, completionPer1k: 0.01 }) });
 * s.test.verdict; // 'no difference yet'
 * s.decision;     // 'keep running'
 */
export function abSummary(outcomes: readonly VariantOutcomes[], o: AbOptions = {}): AbSummary {
  const control = o.control ?? 'A';
  const treatment = o.treatment ?? 'B';
  const price = o.price ?? DEFAULT_TOKEN_PRICE;
  const byName = new Map(outcomes.map((v) => [v.variant, v]));
  for (const name of [control, treatment]) if (!byName.has(name)) byName.set(name, emptyOutcomes(name));
  const variants = [...byName.values()]
    .sort((x, y) => (x.variant < y.variant ? -1 : x.variant > y.variant ? 1 : 0))
    .map((v) => summariseVariant(v, price, o.confidence ?? 0.95));
  const a = variants.find((v) => v.variant === control)!;
  const b = variants.find((v) => v.variant === treatment)!;
  const test = sequentialTest(
    { n: a.sessions, successes: a.accepted },
    { n: b.sessions, successes: b.accepted },
    o.sequential,
  );
  const g = (v: VariantSummary) => ({
    latencyP95Ms: v.latency.n > 0 ? v.latency.p95 : null,
    costPerAccepted: v.cost.costPerAccepted,
  });
  const guardrails = checkGuardrails(g(a), g(b), o.guardrails);
  const { decision, blockedBy } = decide(test, guardrails);
  return { control, treatment, variants, test, guardrails, decision, blockedBy, price };
}
