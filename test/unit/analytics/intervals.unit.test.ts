import { describe, expect, it } from 'vitest';
import {
  latencyPercentiles,
  meanInterval,
  meanIntervalFromMoments,
  normalCdf,
  normalQuantile,
  percentile,
  wilsonInterval,
  zFor,
} from '../../../analytics/intervals.ts';

describe('normal quantile and CDF', () => {
  it('match the tabled values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(zFor(0.9)).toBeCloseTo(1.644854, 5);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });
});

describe('wilsonInterval', () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i of %i is [%f, %f]', (x, n, low, high) => {
    const i = wilsonInterval(x, n);
    expect(i.estimate).toBeCloseTo(x / n, 12);
    expect(i.low).toBeCloseTo(low, 4);
    expect(i.high).toBeCloseTo(high, 4);
    expect(i.confidence).toBe(0.95);
  });

  it('is [0, 1] with no data and rejects impossible counts', () => {
    const i = wilsonInterval(0, 0);
    expect([i.low, i.high]).toEqual([0, 1]);
    expect(Number.isNaN(i.estimate)).toBe(true);
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
  });

  it('narrows with a lower confidence', () => {
    const w95 = wilsonInterval(40, 100);
    const w80 = wilsonInterval(40, 100, 0.8);
    expect(w80.high - w80.low).toBeLessThan(w95.high - w95.low);
  });
});

describe('mean intervals and percentiles', () => {
  it('meanInterval is mean ± 1.96 sd/√n', () => {
    const i = meanInterval([180, 240, 300]);
    expect(i.estimate).toBe(240);
    expect(i.low).toBeCloseTo(240 - 1.959964 * (60 / Math.sqrt(3)), 4);
    expect(i.high).toBeCloseTo(307.8951, 3);
    const m = meanIntervalFromMoments(100, 240, 3600);
    expect(m.high - m.estimate).toBeCloseTo(11.7598, 3);
  });

  it('percentile interpolates like numpy', () => {
    expect(percentile([10, 20, 30, 40], 0.95)).toBeCloseTo(38.5, 12);
    expect(percentile([40, 10, 30, 20], 0.5)).toBe(25);
    expect(percentile([7], 0.99)).toBe(7);
    expect(Number.isNaN(percentile([], 0.5))).toBe(true);
    const values = Array.from({ length: 101 }, (_, i) => i);
    expect(latencyPercentiles(values)).toEqual({ p50: 50, p95: 95, p99: 99 });
  });
});
