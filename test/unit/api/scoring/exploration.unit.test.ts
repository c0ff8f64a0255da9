import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCORING_CONFIG,
  explorationDraw,
  explore,
  scoreOptions,
} from '../../../../api/scoring/index.ts';
import { inputs, profileWith } from './fixtures.ts';

const greedyArb = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: n, maxLength: n },
  ),
);
const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const eps = fc.double({ min: 0, max: 1, noNaN: true });

describe('explore', () => {
  it('propensities: 1 − ε for the greedy top, ε/(|O| − 1) for each other, summing to 1', () => {
    fc.assert(
      fc.property(greedyArb, eps, draw, (greedy, epsilon, u) => {
        const { propensity } = explore(greedy, epsilon, u);
        const n = greedy.length;
        const top = greedy[0]!;
        const single = n === 1 || epsilon === 0;
        expect(propensity[top]).toBeCloseTo(single ? 1 : 1 - epsilon, 12);
        for (const i of greedy.slice(1))
          expect(propensity[i]).toBeCloseTo(single ? 0 : epsilon / (n - 1), 12);
        expect(propensity.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }),
    );
  });

  it('promotes a non-top option iff the draw is below ε, keeping the rest in greedy order', () => {
    fc.assert(
      fc.property(greedyArb, eps, draw, (greedy, epsilon, u) => {
        const { order, explored } = explore(greedy, epsilon, u);
        expect([...order].sort((a, b) => a - b)).toEqual([...greedy].sort((a, b) => a - b));
        expect(explored).toBe(greedy.length > 1 && u < epsilon);
        if (!explored) {
          expect(order).toEqual(greedy);
          return;
        }
        expect(order[0]).not.toBe(greedy[0]);
        expect(order.slice(1)).toEqual(greedy.filter((i) => i !== order[0]));
      }),
    );
  });

  it('is greedy at ε = 0 for every draw', () => {
    fc.assert(
      fc.property(greedyArb, draw, (greedy, u) => {
        expect(explore(greedy, 0, u)).toMatchObject({ order: greedy, explored: false });
      }),
    );
  });

  it('shows each option first exactly as often as its propensity says, over evenly spread draws', () => {
    const greedy = [4, 0, 2, 1, 3];
    const epsilon = 0.2;
    const m = 1000;
    const firsts = new Map<number, number>();
    for (let j = 0; j < m; j++) {
      const first = explore(greedy, epsilon, (j + 0.5) / m).order[0]!;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    const { propensity } = explore(greedy, epsilon, 0.5);
    for (let i = 0; i < 5; i++) expect(firsts.get(i)).toBe(Math.round(propensity[i]! * m));
  });
});

describe('explorationDraw', () => {
  it('is deterministic, in [0, 1), and spread evenly over session ids', () => {
    expect(explorationDraw('rs-1')).toBe(explorationDraw('rs-1'));
    expect(explorationDraw('rs-1')).not.toBe(explorationDraw('rs-2'));
    expect(explorationDraw('rs-1', 'salt')).not.toBe(explorationDraw('rs-1'));
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const u = explorationDraw(`rs-${i}`);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      bins[Math.floor(u * 10)]++;
    }
    for (const b of bins) expect(Math.abs(b - 1000)).toBeLessThan(150);
  });
});

describe('scoreOptions with exploration', () => {
  const base = inputs({ profile: profileWith({ 'email:strong': [9, 9] }) });
  it('ε = 0 is greedy: propensity 1 for the top, 0 elsewhere, whatever the draw', () => {
    const config = { ...DEFAULT_SCORING_CONFIG, epsilon: 0 };
    for (const u of [0, 0.01, 0.99]) {
      const r = scoreOptions({ ...base, config, draw: u });
      expect(r.explored).toBe(false);
      expect(r.options[0]).toMatchObject({ category: 'email', intensity: 'strong', propensity: 1 });
      expect(r.options.slice(1).every((o) => o.propensity === 0)).toBe(true);
      for (let i = 1; i < r.options.length; i++) {
        expect(r.options[i]!.score).toBeLessThanOrEqual(r.options[i - 1]!.score);
      }
    }
  });

  it('an explored response shows another option first, says why, and logs the same propensities', () => {
    const config = { ...DEFAULT_SCORING_CONFIG, epsilon: 0.1 };
    const greedy = scoreOptions({ ...base, config, draw: 0.5 });
    const explored = scoreOptions({ ...base, config, draw: 0.05 });
    expect(explored.explored).toBe(true);
    const first = explored.options[0]!;
    expect(`${first.category}:${first.intensity}`).not.toBe('email:strong');
    expect(first.reason).toMatch(/^shown first to explore \(ε = 0\.1\); otherwise rank \d+: /);
    expect(explored.options[1]).toMatchObject({ category: 'email', intensity: 'strong' });
    expect(explored.options[1]!.propensity).toBeCloseTo(0.9, 12);
    const p = (r: typeof greedy) =>
      Object.fromEntries(r.options.map((o) => [`${o.category}:${o.intensity}`, o.propensity]));
    expect(p(explored)).toEqual(p(greedy));
  });
});
