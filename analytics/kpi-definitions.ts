/**
 * The definitions of the KPIs every view of the wheel shares — the dashboard's KPI fold
 * (analytics/kpis.ts), the Kibana saved objects (kibana/build-dashboard.ts) and the reports — so
 * "acceptance" or "cost per accepted suggestion" means one thing wherever it is shown. Pure data
 * and tiny functions; no I/O.
 */
import type { Outcome } from '../schemas/index.ts';
import { DEFAULT_TOKEN_PRICE, type TokenPrice } from './cost.ts';

/** Outcomes in which the user kept a candidate (an edited candidate was kept too). */
export const ACCEPTED_OUTCOMES: readonly Outcome[] = Object.freeze(['accepted', 'edited']);

export function isAccepted(outcome: string): boolean {
  return (ACCEPTED_OUTCOMES as readonly string[]).includes(outcome);
}

/**
 * Acceptance = accepted sessions / sessions, over the latest revision of every recommend session
 * (a session that closed without C counts as not accepted). 0 for no sessions.
 */
export const ACCEPTANCE = Object.freeze({
  label: 'Acceptance rate',
  definition: 'accepted sessions / sessions (latest revision of each recommend session)',
  /** The golden document's 1/0 field whose average is the rate (Kibana averages numbers only). */
  field: 'acceptance',
  /** The golden document's boolean field and the KQL that selects accepted sessions. */
  acceptedField: 'accepted',
  acceptedKql: 'accepted:true',
});

export function acceptanceRate(accepted: number, sessions: number): number {
  return sessions > 0 ? accepted / sessions : 0;
}

/**
 * hit@1 as the log can tell it: the option the user paraphrased with was the one ranked first
 * (sessions without a recommended option — a free style request, no B — are misses). The
 * simulator's hit@1 measures against a persona's known preference instead, which only a
 * simulation has.
 */
export const HIT_AT_1 = Object.freeze({
  label: 'hit@1 (chose the top-ranked option)',
  definition: 'sessions whose chosen option was ranked 1 / sessions',
});

/** The funnel's stages, in order: the dashboard's funnel panel and Kibana's filters bars. */
export interface FunnelStage {
  readonly id: 'recommended' | 'paraphrased' | 'selected' | 'accepted';
  readonly label: string;
  /** The golden document's boolean field for the stage. */
  readonly field: string;
  readonly kql: string;
}

export const FUNNEL_STAGES: readonly FunnelStage[] = Object.freeze([
  { id: 'recommended', label: 'A recommended', field: 'reached_recommend', kql: 'reached_recommend:true' },
  { id: 'paraphrased', label: 'B paraphrased', field: 'reached_paraphrase', kql: 'reached_paraphrase:true' },
  { id: 'selected', label: 'C selected', field: 'reached_selection', kql: 'reached_selection:true' },
  { id: 'accepted', label: 'accepted', field: ACCEPTANCE.acceptedField, kql: ACCEPTANCE.acceptedKql },
]);

/** Which funnel stages one session reached, from H's `funnel` ("ABC", "AB", …) and outcome. */
export function stagesReached(funnel: string, outcome: string): Record<FunnelStage['id'], boolean> {
  return {
    recommended: funnel.includes('A'),
    paraphrased: funnel.includes('B'),
    selected: funnel.includes('C'),
    accepted: isAccepted(outcome),
  };
}

/**
 * Cost per accepted suggestion = every token's cost (rejected paraphrases included: they are the
 * price of the accepted ones) / accepted sessions. The Lens formulas say the same over the golden
 * documents' `cost_usd` and `total_tokens`.
 */
export const COST_PER_ACCEPTED = Object.freeze({
  label: 'Cost (USD) per accepted suggestion',
  definition: 'cost of all tokens / accepted sessions',
  formula: `sum(cost_usd) / count(kql='${ACCEPTANCE.acceptedKql}')`,
  costField: 'cost_usd',
});

export const TOKENS_PER_ACCEPTED = Object.freeze({
  label: 'Tokens per accepted suggestion',
  definition: 'all tokens / accepted sessions',
  formula: `sum(total_tokens) / count(kql='${ACCEPTANCE.acceptedKql}')`,
  tokensField: 'total_tokens',
});

/** The default price the dashboard and the Kibana description quote (per 1,000 tokens). */
export const DEFAULT_PRICE: TokenPrice = DEFAULT_TOKEN_PRICE;

/** "USD 0.00015 / 1k prompt, 0.0006 / 1k completion": how a price is shown. */
export function describePrice(p: TokenPrice = DEFAULT_PRICE): string {
  return `${p.currency} ${p.promptPer1k} / 1k prompt tokens, ${p.completionPer1k} / 1k completion tokens`;
}

/** The cold-start curve's buckets of the user's past sessions (the evaluation report's too). */
export const SESSION_INDEX_BUCKETS = ['0', '1-2', '3-5', '6-10', '>10'] as const;
export type SessionIndexBucket = (typeof SESSION_INDEX_BUCKETS)[number];

export function sessionIndexBucket(past: number): SessionIndexBucket {
  if (past === 0) return '0';
  if (past <= 2) return '1-2';
  if (past <= 5) return '3-5';
  if (past <= 10) return '6-10';
  return '>10';
}

/** The option-mix key of a session: the option paraphrased with, else why there is none. */
export function optionMixKey(chosen: string | null, styleRequest: string | null, funnel: string): string {
  if (chosen) return chosen;
  if (styleRequest !== null) return 'style request';
  return funnel.includes('B') ? 'other' : 'no paraphrase';
}
