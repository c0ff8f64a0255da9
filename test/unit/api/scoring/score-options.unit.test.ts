import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCORING_CONFIG,
  indexOptions,
  pickCluster,
  type ScoreResult,
  ScoringError,
  type ScoringInputs,
  scoreOptions,
} from '../../../../api/scoring/index.ts';
import { DEFAULT_VOCABULARY, rankedOptionSchema } from '../../../../schemas/index.ts';
import { clusterWith, inputs, nb, profileWith } from './fixtures.ts';

const KEYS = indexOptions(DEFAULT_VOCABULARY).keys;
const N = KEYS.length;
const key = (o: { category: string; intensity: string }) => `${o.category}:${o.intensity}`;
const byKey = (r: ScoreResult) => new Map(r.options.map((o) => [key(o), o]));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const keyArb = fc.constantFrom(...KEYS, 'poetry:weak');
const unit = fc.double({ min: 0, max: 1, noNaN: true });
const vec8 = fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 });

/** Arbitrary, valid scoring inputs, including evidence outside the vocabulary and other languages. */
const inputsArb: fc.Arbitrary<ScoringInputs> = fc
  .record({
    a: unit,
    b: unit,
    epsilon: unit,
    draw: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    shrinkageK: fc.double({ min: 0, max: 50, noNaN: true }),
    neighbours: fc.array(
      fc.record({
        score: fc.double({ min: -1, max: 1, noNaN: true }),
        key: fc.option(keyArb),
        language: fc.constantFrom('en', 'ko'),
      }),
      { maxLength: 25 },
    ),
    doc: fc.option(
      fc.record({
        field: fc.option(fc.constantFrom('thesis', 'email', 'poetry')),
        history: fc.dictionary(keyArb, fc.nat(5)),
      }),
    ),
    options: fc.dictionary(keyArb, fc.tuple(fc.nat(20), fc.nat(20))),
    embeddings: fc.dictionary(keyArb, vec8),
    embedding: fc.option(vec8),
    cluster: fc.option(fc.record({ dist: fc.dictionary(keyArb, unit), size: fc.nat(50) })),
  })
  .map((r) =>
    inputs({
      config: {
        ...DEFAULT_SCORING_CONFIG,
        alpha: r.a,
        beta: (1 - r.a) * r.b,
        epsilon: r.epsilon,
        shrinkageK: r.shrinkageK,
      },
      draw: r.draw,
      neighbours: r.neighbours.map((n) => nb(n.key, n.score, n.language)),
      doc: r.doc,
      profile:
        Object.keys(r.options).length === 0 && Object.keys(r.embeddings).length === 0
          ? null
          : profileWith(
              Object.fromEntries(
                Object.entries(r.options).map(([k, [s, a]]) => [k, [s, Math.min(s, a)] as [number, number]]),
              ),
              r.embeddings,
            ),
      embedding: r.embedding,
      cluster: r.cluster ? clusterWith(2, r.cluster.dist, r.cluster.size) : null,
    }),
  );

describe('scoreOptions: distributions', () => {
  it('every component, the score and the propensity sum to 1 over the options; output fits A', () => {
    fc.assert(
      fc.property(inputsArb, (x) => {
        const r = scoreOptions(x);
        expect(r.options).toHaveLength(N);
        expect(r.options.map((o) => o.rank)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
        for (const c of ['vec', 'doc', 'user', 'cluster'] as const) {
          expect(sum(r.options.map((o) => o.components[c]))).toBeCloseTo(1, 9);
        }
        expect(sum(r.options.map((o) => o.score))).toBeCloseTo(1, 9);
        expect(sum(r.options.map((o) => o.propensity))).toBeCloseTo(1, 9);
        for (const o of r.options) {
          expect(rankedOptionSchema.parse(o)).toEqual(o);
          expect(o.score).toBeGreaterThanOrEqual(0);
          expect(o.score).toBeLessThanOrEqual(1 + 1e-12);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic: the same inputs (even a deep copy) give a deep-equal result', () => {
    fc.assert(
      fc.property(inputsArb, (x) => {
        expect(scoreOptions(structuredClone(x))).toEqual(scoreOptions(x));
      }),
      { numRuns: 100 },
    );
  });

  it('is uniform, with a neutral reason, when there is no evidence at all', () => {
    const r = scoreOptions(inputs());
    for (const o of r.options) {
      expect(o.score).toBeCloseTo(1 / N, 12);
      expect(o.reason).toBe('no strong signal yet, so a neutral default');
    }
    // Ties fall back to vocabulary order.
    expect(r.options.map(key)).toEqual(KEYS);
  });
});

describe('scoreOptions: α and β', () => {
  const rich = inputs({
    neighbours: [nb('report:moderate', 0.9), nb('email:weak', 0.5)],
    doc: { field: 'thesis', history: { 'thesis:strong': 2 } },
    profile: profileWith({ 'email:strong': [4, 3] }),
    cluster: clusterWith(1, { 'article:weak': 1 }),
  });
  const withWeights = (alpha: number, beta: number) =>
    scoreOptions({ ...rich, config: { ...DEFAULT_SCORING_CONFIG, alpha, beta } });

  it('α = β = 0 scores by P_vec alone; α = 1 by P_doc alone', () => {
    for (const o of withWeights(0, 0).options) expect(o.score).toBe(o.components.vec);
    for (const o of withWeights(1, 0).options) expect(o.score).toBe(o.components.doc);
  });

  it('β = 1 scores by the user/cluster blend alone', () => {
    const r = withWeights(0, 1);
    const w = r.explain.userShare;
    expect(w).toBeCloseTo(4 / 9, 12);
    for (const o of r.options)
      expect(o.score).toBeCloseTo(w * o.components.user + (1 - w) * o.components.cluster, 12);
  });

  it('accepts α + β = 1 up to rounding, and rejects negatives, α + β > 1 and non-numbers', () => {
    expect(() => withWeights(0.7, 0.3)).not.toThrow();
    expect(() => withWeights(0.1 + 0.2, 0.7)).not.toThrow();
    for (const [a, b] of [
      [0.6, 0.5],
      [-0.1, 0.5],
      [0.5, -0.01],
      [Number.NaN, 0],
    ] as const) {
      expect(() => withWeights(a, b)).toThrow(ScoringError);
      try {
        withWeights(a, b);
      } catch (e) {
        expect(e).toMatchObject({ code: 'scoring_config_invalid', retriable: false });
      }
    }
    expect(() => scoreOptions({ ...rich, draw: 1 })).toThrow(/draw must be in \[0, 1\)/);
  });
});

describe('scoreOptions: evidence and reasons', () => {
  it('ranks a user’s strong habit first, and the reason says so', () => {
    const r = scoreOptions(
      inputs({ profile: profileWith({ 'email:strong': [7, 6], 'thesis:moderate': [3, 3] }) }),
    );
    const top = r.options[0]!;
    expect(key(top)).toBe('email:strong');
    expect(top.reason).toBe('you chose email · strong in 7 of your 10 sessions');
    expect(r.explain.options.find((o) => o.key === 'email:strong')!.carriedBy).toBe('user');
    expect(r.profile_version).toBe(7);
  });

  it('names the similarity when the user used an option for sentences like this one', () => {
    const profile = profileWith(
      { 'email:strong': [8, 8], 'thesis:weak': [1, 1] },
      { 'email:strong': [0, 1, 0, 0], 'thesis:weak': [0.95, 0.05, 0, 0] },
    );
    const near = byKey(scoreOptions(inputs({ profile, embedding: [1, 0, 0, 0] }))).get('thesis:weak')!;
    const blind = byKey(scoreOptions(inputs({ profile }))).get('thesis:weak')!;
    expect(near.components.user).toBeGreaterThan(blind.components.user);
    expect(near.reason).toBe('you used thesis · weak for sentences like this one');
    expect(blind.reason).toBe('you chose thesis · weak in 1 of your 9 sessions');
  });

  it('gives a brand-new user the favourite of their cluster, and says so', () => {
    const r = scoreOptions(inputs({ cluster: clusterWith(3, { 'thesis:strong': 0.7, 'email:weak': 0.3 }) }));
    expect(key(r.options[0]!)).toBe('thesis:strong');
    expect(r.options[0]!.reason).toBe('users like you (cluster 3) mostly pick thesis · strong');
    expect(key(r.options[1]!)).toBe('email:weak');
    expect(r.options[1]!.reason).toBe('users like you (cluster 3) often pick email · weak (30 %)');
    expect(r.explain.userShare).toBe(0);
  });

  it('follows similar sentences, and says so', () => {
    const r = scoreOptions(
      inputs({
        neighbours: [nb('report:moderate', 0.9), nb('report:moderate', 0.8), nb('email:weak', 0.7)],
      }),
    );
    expect(key(r.options[0]!)).toBe('report:moderate');
    expect(r.options[0]!.reason).toBe('similar sentences were rewritten as report · moderate (2 of 3)');
  });

  it('follows the document: its field, then what was chosen earlier in it', () => {
    const field = scoreOptions(inputs({ doc: { field: 'thesis', history: {} } }));
    expect(field.options.slice(0, 3).map((o) => o.category)).toEqual(['thesis', 'thesis', 'thesis']);
    expect(field.options[0]!.reason).toBe('this document is a thesis');
    expect(scoreOptions(inputs({ doc: { field: 'article', history: {} } })).options[0]!.reason).toBe(
      'this document is an article',
    );
    const history = scoreOptions(inputs({ doc: { field: 'thesis', history: { 'report:strong': 3 } } }));
    expect(key(history.options[0]!)).toBe('report:strong');
    expect(history.options[0]!.reason).toBe('you chose report · strong earlier in this document (3×)');
  });

  it('ignores neighbours in another language (and options outside the vocabulary)', () => {
    const foreign = [
      nb('report:moderate', 0.9, 'ko'),
      nb('report:moderate', 0.8, 'ko'),
      nb('poetry:weak', 0.9),
    ];
    const r = scoreOptions(inputs({ neighbours: foreign }));
    expect(r.explain.neighboursUsed).toBe(0);
    expect(r.explain.neighboursGiven).toBe(3);
    expect(r.options).toEqual(scoreOptions(inputs()).options);
    const ko = scoreOptions(inputs({ neighbours: foreign, language: 'ko' }));
    expect(key(ko.options[0]!)).toBe('report:moderate');
  });
});

describe('scoreOptions: shrinkage from cluster to user', () => {
  const cluster = clusterWith(4, { 'thesis:strong': 1 }, 30);
  const at = (n: number, k: number) =>
    scoreOptions(
      inputs({
        profile: n > 0 ? profileWith({ 'email:strong': [n, n] }) : null,
        cluster,
        config: { ...DEFAULT_SCORING_CONFIG, shrinkageK: k },
      }),
    );

  it('moves weight from the cluster to the user as history grows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0.5, max: 40, noNaN: true }),
        (n1, dn, k) => {
          const a = at(n1, k);
          const b = at(n1 + dn, k);
          expect(b.explain.userShare).toBeGreaterThan(a.explain.userShare);
          expect(b.explain.userShare).toBeCloseTo((n1 + dn) / (n1 + dn + k), 12);
          expect(b.explain.weights.cluster).toBeLessThan(a.explain.weights.cluster);
          expect(byKey(b).get('email:strong')!.score).toBeGreaterThan(byKey(a).get('email:strong')!.score);
          expect(byKey(b).get('thesis:strong')!.score).toBeLessThan(byKey(a).get('thesis:strong')!.score);
        },
      ),
    );
  });

  it('ranks the cluster’s favourite first at n = 0 and the user’s once n ≫ k', () => {
    expect(key(at(0, 5).options[0]!)).toBe('thesis:strong');
    expect(key(at(40, 5).options[0]!)).toBe('email:strong');
    expect(at(40, 5).options[0]!.reason).toBe('you chose email · strong in 40 of your 40 sessions');
  });
});

describe('pickCluster', () => {
  const c0 = { ...clusterWith(0, { 'email:weak': 1 }), centroid: [1, 0, 0, 0.5] };
  const c1 = { ...clusterWith(1, { 'thesis:weak': 1 }), centroid: [0, 1, 0, 0.5] };
  it('uses the user’s own cluster, else the nearest centroid by context', () => {
    expect(pickCluster(profileWith({}, {}, 1), [c0, c1], [0, 1, 0])?.cluster_id).toBe(c1.cluster_id);
    expect(pickCluster({ ...profileWith({}), cluster_id: 0 }, [c0, c1], [0, 1, 0])?.cluster_id).toBe(
      c0.cluster_id,
    );
    expect(pickCluster(null, [c0, c1], [0.9, 0.1, 0])?.cluster_id).toBe(c0.cluster_id);
    expect(pickCluster(null, [c0, c1], null)).toBeNull();
    expect(pickCluster(null, [], [1, 0, 0])).toBeNull();
  });
});
