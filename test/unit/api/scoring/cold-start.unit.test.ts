import { describe, expect, it } from 'vitest';
import { conditionOnContext, indexOptions } from '../../../../api/scoring/components.ts';
import {
  DEFAULT_SCORING_CONFIG,
  pickCluster,
  ScoringError,
  scoreOptions,
  validateScoringConfig,
} from '../../../../api/scoring/index.ts';
import { DEFAULT_VOCABULARY } from '../../../../schemas/index.ts';
import { clusterWith, inputs, nb, profileWith } from './fixtures.ts';

const opts = indexOptions(DEFAULT_VOCABULARY);
const at = (key: string) => opts.index.get(key)!;

/** A cluster whose centroid's context part is `context` (then an option part, ignored by pickCluster). */
const withCentroid = (id: number, context: number[], dist: Record<string, number>) => ({
  ...clusterWith(id, dist),
  centroid: [...context, 0.3, 0.3],
});

describe('cold start: the nearest cluster to the first context (its id; the soft mixture: soft-assign.unit.test.ts)', () => {
  const scholars = withCentroid(0, [1, 0, 0], { 'thesis:strong': 1 });
  const agents = withCentroid(1, [0, 1, 0.2], { 'customer_service:moderate': 1 });

  it('gives a user without history the cluster whose context part is closest to what they write', () => {
    expect(pickCluster(null, [scholars, agents], [0.9, 0.1, 0])?.cluster_id).toBe(scholars.cluster_id);
    expect(pickCluster(null, [scholars, agents], [0.1, 0.8, 0.3])?.cluster_id).toBe(agents.cluster_id);
    // a profile not yet clustered is still chosen for by its context
    expect(
      pickCluster(profileWith({ 'email:weak': [1, 1] }), [scholars, agents], [0, 1, 0])?.cluster_id,
    ).toBe(agents.cluster_id);
  });

  it("keeps an assigned user's own cluster whatever they write", () => {
    expect(
      pickCluster({ ...profileWith({}), cluster_id: 0 }, [scholars, agents], [0, 1, 0])?.cluster_id,
    ).toBe(scholars.cluster_id);
  });

  it('has no cluster without an embedding, and skips centroids too short to compare', () => {
    expect(pickCluster(null, [scholars], null)).toBeNull();
    expect(pickCluster(null, [{ ...agents, centroid: [1] }, scholars], [0, 1, 0])?.cluster_id).toBe(
      scholars.cluster_id,
    );
    expect(pickCluster(null, [], [1, 0, 0])).toBeNull();
  });

  it('puts a first-session user on their nearest cluster’s option', () => {
    const cluster = pickCluster(null, [scholars, agents], [0.1, 0.9, 0]);
    const r = scoreOptions(inputs({ cluster, embedding: [0.1, 0.9, 0] }));
    expect(`${r.options[0]!.category}:${r.options[0]!.intensity}`).toBe('customer_service:moderate');
    expect(r.explain.clusterId).toBe(1);
  });
});

describe('shrinkage of the cluster prior as history grows', () => {
  const cluster = clusterWith(3, { 'thesis:strong': 1 });
  const beta = DEFAULT_SCORING_CONFIG.beta;
  const k = DEFAULT_SCORING_CONFIG.shrinkageK;
  it('weighs the cluster β·k/(k + n): all of β at n = 0, half at n = k, a fifth at n = 4k', () => {
    for (const [n, share] of [
      [0, 1],
      [k, 0.5],
      [4 * k, 0.2],
    ] as const) {
      const profile = n > 0 ? profileWith({ 'email:weak': [n, n] }) : null;
      const r = scoreOptions(inputs({ profile, cluster }));
      expect(r.explain.weights.cluster, `n=${n}`).toBeCloseTo(beta * share, 12);
      expect(r.explain.weights.user + r.explain.weights.cluster).toBeCloseTo(beta, 12);
    }
  });

  it('lets a user with enough history override their cluster', () => {
    const few = scoreOptions(inputs({ profile: profileWith({ 'email:weak': [2, 2] }), cluster }));
    const many = scoreOptions(inputs({ profile: profileWith({ 'email:weak': [30, 30] }), cluster }));
    expect(`${few.options[0]!.category}:${few.options[0]!.intensity}`).toBe('thesis:strong');
    expect(`${many.options[0]!.category}:${many.options[0]!.intensity}`).toBe('email:weak');
  });
});

describe('the cluster prior conditioned on the context (clusterContextWeight)', () => {
  // A scholar cluster picks thesis:strong in papers and email:strong in mails; this sentence's
  // neighbours all ended with e-mail options.
  const cluster = clusterWith(0, { 'thesis:strong': 0.7, 'email:strong': 0.3 });
  const neighbours = [nb('email:weak', 0.9), nb('email:moderate', 0.8), nb('email:strong', 0.3)];
  const top = (g: number) => {
    const r = scoreOptions(
      inputs({ cluster, neighbours, config: { ...DEFAULT_SCORING_CONFIG, clusterContextWeight: g } }),
    );
    return `${r.options[0]!.category}:${r.options[0]!.intensity}`;
  };

  it("keeps scorer-v1's context-free P_cluster at 0, and picks the cluster's option for this context at 1", () => {
    expect(top(0)).toBe('thesis:strong');
    expect(top(1)).toBe('email:strong');
  });

  it('is the identity at γ = 0 or when the context has no weight, and a distribution otherwise', () => {
    const c = new Float64Array(opts.keys.length).fill(1 / opts.keys.length);
    c[at('thesis:strong')] = 1 / opts.keys.length + 0.1;
    const v = new Float64Array(opts.keys.length).fill(0.01);
    v[at('email:strong')] = 0.8;
    expect(conditionOnContext(c, v, v, 0.25, 0.2, 0)).toBe(c);
    expect(conditionOnContext(c, v, v, 0, 0, 1)).toBe(c);
    const out = conditionOnContext(c, v, v, 0.25, 0.2, 0.5);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(0.5 * 1.1 + 0.5, 12); // (1 − γ)·Σc + γ·1, Σc = 1.1
    expect(out[at('email:strong')]!).toBeGreaterThan(c[at('email:strong')]!);
  });

  it('is validated like the other shares', () => {
    expect(() => validateScoringConfig({ ...DEFAULT_SCORING_CONFIG, clusterContextWeight: 1.5 })).toThrow(
      ScoringError,
    );
    const { clusterContextWeight: _omit, ...older } = DEFAULT_SCORING_CONFIG;
    expect(() => validateScoringConfig(older)).not.toThrow();
  });
});
