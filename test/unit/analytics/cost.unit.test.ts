import { describe, expect, it } from 'vitest';
import { costPerAccepted, DEFAULT_TOKEN_PRICE, priceFrom, tokenCost } from '../../../analytics/cost.ts';

describe('cost', () => {
  it('prices tokens per 1k at the default price', () => {
    expect(tokenCost(12_000, 3_000)).toBeCloseTo(12 * 0.00015 + 3 * 0.0006, 12);
    expect(DEFAULT_TOKEN_PRICE.currency).toBe('USD');
  });

  it('divides all tokens spent by the accepted suggestions', () => {
    const price = priceFrom({ promptPer1k: 1, completionPer1k: 2 });
    const c = costPerAccepted({ promptTokens: 4_000, completionTokens: 1_000, accepted: 3 }, price);
    expect(c.totalCost).toBe(6);
    expect(c.costPerAccepted).toBe(2);
  });

  it('has no cost per accepted when nothing was accepted', () => {
    expect(
      costPerAccepted({ promptTokens: 10, completionTokens: 10, accepted: 0 }).costPerAccepted,
    ).toBeNull();
  });

  it('rejects a negative or non-finite price', () => {
    expect(() => priceFrom({ promptPer1k: -1 })).toThrow(RangeError);
    expect(() => priceFrom({ completionPer1k: Number.NaN })).toThrow(RangeError);
  });
});
