import { describe, expect, it } from 'vitest';
import { checkGuardrails, decide, sequentialTest } from '../../../analytics/sequential.ts';
import { mulberry32 } from '../../../common/random.ts';

/**
 * One simulated experiment, looked at every `peekEvery` sessions per arm (as a dashboard that
 * refreshes would): the first look that is not 'no difference yet' stops it.
 */
function run(seed: number, pA: number, pB: number, perArm: number, peekEvery: number) {
  const rnd = mulberry32(seed);
  let a = 0;
  let b = 0;
  for (let n = 1; n <= perArm; n++) {
    if (rnd() < pA) a++;
    if (rnd() < pB) b++;
    if (n % peekEvery === 0) {
      const t = sequentialTest({ n, successes: a }, { n, successes: b });
      if (t.verdict === 'A better' || t.verdict === 'B better') return { verdict: t.verdict, n };
    }
  }
  return { verdict: 'no difference yet' as const, n: perArm };
}

describe('sequentialTest (mSPRT, normal mixture)', () => {
  it('keeps the type-I error at most α on A/A data even when looked at 40 times', () => {
    const experiments = 400;
    let falsePositives = 0;
    for (let s = 0; s < experiments; s++) {
      if (run(1000 + s, 0.3, 0.3, 2000, 50).verdict !== 'no difference yet') falsePositives++;
    }
    const rate = falsePositives / experiments;
    console.log(`A/A: ${falsePositives} of ${experiments} experiments ended with a verdict (α = 0.05)`);
    // Ville's bound is 0.05; with 400 experiments a rate over 0.08 would be a real excess.
    expect(rate).toBeLessThanOrEqual(0.08);
  });

  it('a fixed-n z-test looked at as often does inflate the error (the reason for the test)', () => {
    let falsePositives = 0;
    for (let s = 0; s < 200; s++) {
      const rnd = mulberry32(5000 + s);
      let a = 0;
      let b = 0;
      for (let n = 1; n <= 2000; n++) {
        if (rnd() < 0.3) a++;
        if (rnd() < 0.3) b++;
        if (n % 50 === 0) {
          const pa = a / n;
          const pb = b / n;
          const se = Math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n);
          if (Math.abs(pb - pa) / se > 1.96) {
            falsePositives++;
            break;
          }
        }
      }
    }
    expect(falsePositives / 200).toBeGreaterThan(0.1);
  });

  it('finds a clear difference (30 % vs 40 %) in nearly every experiment, with the right sign', () => {
    let found = 0;
    let wrongSign = 0;
    for (let s = 0; s < 100; s++) {
      const r = run(9000 + s, 0.3, 0.4, 2000, 50);
      if (r.verdict === 'B better') found++;
      if (r.verdict === 'A better') wrongSign++;
    }
    expect(found).toBeGreaterThanOrEqual(95);
    expect(wrongSign).toBe(0);
    expect(run(42, 0.45, 0.3, 2000, 50).verdict).toBe('A better');
  });

  it('its confidence sequence excludes 0 exactly when it gives a verdict, and is wider than a z interval', () => {
    const t = sequentialTest({ n: 1200, successes: 360 }, { n: 1180, successes: 450 });
    expect(t.verdict).toBe('B better');
    expect(t.pValue).toBeLessThan(0.05);
    expect(t.difference.low).toBeGreaterThan(0);
    const z = 1.96 * Math.sqrt((0.3 * 0.7) / 1200 + (0.381 * 0.619) / 1180);
    expect(t.difference.high - t.difference.estimate).toBeGreaterThan(z);
    const none = sequentialTest({ n: 200, successes: 60 }, { n: 200, successes: 66 });
    expect(none.verdict).toBe('no difference yet');
    expect(none.difference.low).toBeLessThan(0);
    expect(none.difference.high).toBeGreaterThan(0);
  });

  it('gives no verdict below the minimum per arm, and handles 0 % and 100 % acceptance', () => {
    expect(sequentialTest({ n: 10, successes: 0 }, { n: 10, successes: 10 }).verdict).toBe(
      'insufficient data',
    );
    const t = sequentialTest({ n: 200, successes: 0 }, { n: 200, successes: 200 });
    expect(t.verdict).toBe('B better');
    expect(Number.isFinite(t.pValue)).toBe(true);
    expect(() => sequentialTest({ n: 5, successes: 6 }, { n: 5, successes: 1 })).toThrow(RangeError);
  });
});

describe('guardrails and the decision', () => {
  const better = sequentialTest({ n: 1200, successes: 360 }, { n: 1180, successes: 450 });

  it('ships B when B is better and within both tolerances', () => {
    const g = checkGuardrails(
      { latencyP95Ms: 400, costPerAccepted: 0.001 },
      { latencyP95Ms: 430, costPerAccepted: 0.00105 },
    );
    expect(g.every((x) => x.ok)).toBe(true);
    expect(decide(better, g)).toEqual({ decision: 'ship B', blockedBy: [] });
  });

  it('blocks a better B that is slower or dearer than the tolerance allows', () => {
    const slow = checkGuardrails(
      { latencyP95Ms: 400, costPerAccepted: 0.001 },
      { latencyP95Ms: 520, costPerAccepted: 0.001 },
    );
    expect(decide(better, slow)).toEqual({ decision: 'blocked by guardrail', blockedBy: ['latency_p95'] });
    const dear = checkGuardrails(
      { latencyP95Ms: 400, costPerAccepted: 0.001 },
      { latencyP95Ms: 400, costPerAccepted: 0.002 },
      { costPerAccepted: 0.5 },
    );
    expect(dear.find((x) => x.name === 'cost_per_accepted')).toMatchObject({ ok: false, limit: 0.0015 });
    expect(decide(better, dear).decision).toBe('blocked by guardrail');
  });

  it('passes a guardrail with an unknown side, and keeps running without a verdict', () => {
    const g = checkGuardrails(
      { latencyP95Ms: null, costPerAccepted: null },
      { latencyP95Ms: 900, costPerAccepted: 1 },
    );
    expect(g.every((x) => x.ok)).toBe(true);
    const none = sequentialTest({ n: 200, successes: 60 }, { n: 200, successes: 62 });
    expect(decide(none, g).decision).toBe('keep running');
  });
});
