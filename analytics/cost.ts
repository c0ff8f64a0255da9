/**
 * What suggestions cost: LLM tokens priced per 1,000, and the cost of one accepted suggestion
 * (every paraphrase a variant ran, divided by the suggestions users kept). Pure.
 */

/** Price per 1,000 tokens, in one currency (USD by convention). */
export interface TokenPrice {
  readonly promptPer1k: number;
  readonly completionPer1k: number;
  /** Shown next to the numbers; no conversion happens. */
  readonly currency: string;
}

/**
 * Default price: USD 0.00015 per 1k prompt tokens and USD 0.0006 per 1k completion tokens, the
 * list price of a small hosted chat model (gpt-4o-mini class). The embedded wheel's offline
 * paraphraser costs nothing, so these only give the tokens a scale: set your own price
 * (dashboard query `?prompt_per_1k=&completion_per_1k=`, or `priceFrom(...)`).
 */
export const DEFAULT_TOKEN_PRICE: TokenPrice = Object.freeze({
  promptPer1k: 0.00015,
  completionPer1k: 0.0006,
  currency: 'USD',
});

/**
 * A price from optional overrides, validated (finite, ≥ 0).
 *
 * @example
 * priceFrom({ promptPer1k: 0.0025, completionPer1k: 0.01 }); // a larger model
 */
export function priceFrom(o: Partial<TokenPrice> = {}): TokenPrice {
  const p = { ...DEFAULT_TOKEN_PRICE, ...o };
  for (const k of ['promptPer1k', 'completionPer1k'] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0)
      throw new RangeError(`${k} must be a finite number >= 0, got ${p[k]}`);
  }
  return p;
}

/**
 * Cost of tokens at a price.
 *
 * @example
 * tokenCost(12_000, 3_000); // 0.0018 + 0.0018 = 0.0036 (USD at the default price)
 */
export function tokenCost(
  promptTokens: number,
  completionTokens: number,
  price: TokenPrice = DEFAULT_TOKEN_PRICE,
): number {
  return (promptTokens / 1000) * price.promptPer1k + (completionTokens / 1000) * price.completionPer1k;
}

export interface CostSummary {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Every token the variant spent, accepted or not. */
  readonly totalCost: number;
  /** totalCost / accepted; null when nothing was accepted (the cost is unbounded, not 0). */
  readonly costPerAccepted: number | null;
  readonly currency: string;
}

/**
 * Cost per accepted suggestion: all tokens a variant spent (rejected paraphrases included, they
 * are the price of the accepted ones) over the number of accepted suggestions.
 *
 * @example
 * costPerAccepted({ promptTokens: 120_000, completionTokens: 30_000, accepted: 40 });
 * // { totalCost: 0.036, costPerAccepted: 0.0009, … }
 */
export function costPerAccepted(
  o: { promptTokens: number; completionTokens: number; accepted: number },
  price: TokenPrice = DEFAULT_TOKEN_PRICE,
): CostSummary {
  const totalCost = tokenCost(o.promptTokens, o.completionTokens, price);
  return {
    promptTokens: o.promptTokens,
    completionTokens: o.completionTokens,
    totalCost,
    costPerAccepted: o.accepted > 0 ? totalCost / o.accepted : null,
    currency: price.currency,
  };
}
