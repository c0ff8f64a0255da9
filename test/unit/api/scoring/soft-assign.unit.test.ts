import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCORING_CONFIG,
  pickCluster,
  ScoringError,
  scoreOptions,
  softAssign,
  validateScoringConfig,
} from '../../../../api/scoring/index.ts';
import { clusterWith, inputs, nb, profileWith } from './fixtures.ts';

/** A cluster whose centroid's context part is `context` (then an option part, ignored here). */
const withCentroid = (id: number, context: number[], dist: Record<string, number>, size = 20) => ({
  ...clusterWith(id, dist, size),
  centroid: [...context, 0.3, 0.3],
});
const scholars = withCentroid(0, [1, 0, 0], { 'thesis:strong': 1 });
const agents = withCentroid(1, [0, 1, 0], { 'customer_service:moderate': 0.5, 'email:weak': 0.5 }, 10);
const soft = { ...DEFAULT_SCORING_CONFIG, clusterAssignTemperature: 0.05 };
const top = (r: ReturnType<typeof scoreOptions>) => `${r.options[0]!.category}:${r.options[0]!.intensity}`;

describe('softAssign: a softmax of the context’s similarity to each centroid', () => {
  it('weighs clusters by exp(cos/T), sums to 1, and sharpens as T falls', () => {
    const e = [0.8, 0.6, 0];
    const a = softAssign([scholars, agents], e, 0.1);
    expect(a.weights.map((w) => w.cluster.cluster_id)).toEqual([0, 1]);
    expect(a.weights[0]!.similarity).toBeCloseTo(0.8, 12);
    expect(a.weights[0]!.weight + a.weights[1]!.weight).toBeCloseTo(1, 12);
    expect(a.weights[0]!.weight / a.weights[1]!.weight).toBeCloseTo(Math.exp(0.2 / 0.1), 9);
    const sharp = softAssign([scholars, agents], e, 0.01);
    expect(sharp.weights[0]!.weight).toBeGreaterThan(0.99);
    expect(sharp.confidence).toBeGreaterThan(a.confidence);
  });

  it('is confident when one cluster takes the weight and not at all when the sentence is as close to each', () => {
    expect(softAssign([scholars, agents], [1, 0, 0], 0.01).confidence).toBeGreaterThan(0.99);
    const tie = softAssign([scholars, agents], [1, 1, 0], 0.05);
    expect(tie.weights[0]!.weight).toBeCloseTo(0.5, 12);
    expect(tie.confidence).toBeCloseTo(0, 12);
    // one comparable cluster is certain
    expect(softAssign([scholars], [0, 1, 0], 0.05).confidence).toBe(1);
  });

  it('skips centroids too short or zero, and has nothing for a zero or empty context', () => {
    const short = { ...agents, centroid: [1] };
    const zero = { ...agents, cluster_id: 2, centroid: [0, 0, 0] };
    expect(softAssign([short, zero, scholars], [0, 1, 0], 0.05).weights.map((w) => w.cluster)).toEqual([
      scholars,
    ]);
    expect(softAssign([scholars], [0, 0, 0], 0.05)).toEqual({ weights: [], confidence: 0 });
    expect(softAssign([scholars], [], 0.05).weights).toEqual([]);
  });
});

describe('pickCluster with a soft assignment (clusterAssignTemperature > 0)', () => {
  it('mixes the clusters’ option distributions by weight and keeps the nearest one’s id', () => {
    const e = [0.8, 0.6, 0];
    const c = pickCluster(null, [scholars, agents], e, soft)!;
    const w = softAssign([scholars, agents], e, 0.05).weights;
    expect(c.cluster_id).toBe(0);
    expect(c.centroid).toEqual(scholars.centroid);
    expect(c.option_distribution['thesis:strong']).toBeCloseTo(w[0]!.weight, 12);
    expect(c.option_distribution['email:weak']).toBeCloseTo(w[1]!.weight / 2, 12);
    expect(c.size).toBe(Math.round(20 * w[0]!.weight + 10 * w[1]!.weight));
    expect(c.top_option).toBe('thesis:strong');
    expect(c.confidence).toBeCloseTo(softAssign([scholars, agents], e, 0.05).confidence, 12);
  });

  it("keeps an assigned user's own cluster at full confidence, and the hard nearest one without T", () => {
    expect(pickCluster({ ...profileWith({}), cluster_id: 1 }, [scholars, agents], [1, 0, 0], soft)).toBe(
      agents,
    );
    const v1 = { ...DEFAULT_SCORING_CONFIG, clusterAssignTemperature: 0 };
    expect(pickCluster(null, [scholars, agents], [0.4, 0.6, 0], v1)).toBe(agents);
    expect(pickCluster(null, [scholars, agents], [1, 1, 0], v1)).toBe(scholars); // tie: the lower id
    expect(pickCluster(null, [scholars, agents], null, soft)).toBeNull();
    expect(pickCluster(null, [{ ...scholars, centroid: [1] }], [1, 0, 0], soft)).toBeNull();
  });
});

describe('the cluster prior weighted by the assignment’s confidence', () => {
  // This sentence's neighbours ended with e-mail options; the mixture leans to the scholars.
  const neighbours = [nb('email:strong', 0.9), nb('email:strong', 0.8), nb('email:moderate', 0.3)];

  it('gives P_cluster β·(1 − w)·confidence and lets an ambiguous sentence follow its context', () => {
    const sure = scoreOptions(inputs({ cluster: { ...scholars, confidence: 1 }, neighbours }));
    const vague = scoreOptions(inputs({ cluster: { ...scholars, confidence: 0.1 }, neighbours }));
    expect(sure.explain.weights.cluster).toBeCloseTo(DEFAULT_SCORING_CONFIG.beta, 12);
    expect(vague.explain.weights.cluster).toBeCloseTo(DEFAULT_SCORING_CONFIG.beta * 0.1, 12);
    expect(top(sure)).toBe('thesis:strong');
    expect(top(vague)).toBe('email:strong');
    // still a distribution over the options: the withheld weight favours none of them
    expect(vague.options.reduce((s, o) => s + o.score, 0)).toBeCloseTo(1, 12);
    const lifts = vague.explain.options.reduce(
      (s, o) => s + o.lift.vec + o.lift.doc + o.lift.user + o.lift.cluster,
      0,
    );
    expect(lifts).toBeCloseTo(0, 12);
  });

  it('scores a full-confidence cluster exactly as a J profile (scorer-v1 re-scores to the bit)', () => {
    const profile = profileWith({ 'email:weak': [3, 2] });
    const a = scoreOptions(inputs({ cluster: scholars, neighbours, profile }));
    const b = scoreOptions(inputs({ cluster: { ...scholars, confidence: 1 }, neighbours, profile }));
    expect(b.options.map((o) => o.score)).toEqual(a.options.map((o) => o.score));
  });

  it('shrinks with history as before: β·k/(k + n)·confidence', () => {
    const profile = profileWith({ 'email:weak': [5, 5] });
    const r = scoreOptions(inputs({ cluster: { ...scholars, confidence: 0.5 }, profile }));
    expect(r.explain.weights.cluster).toBeCloseTo(DEFAULT_SCORING_CONFIG.beta * 0.5 * 0.5, 12);
  });

  it('validates the temperature', () => {
    expect(() => validateScoringConfig({ ...DEFAULT_SCORING_CONFIG, clusterAssignTemperature: -1 })).toThrow(
      ScoringError,
    );
    const { clusterAssignTemperature: _omit, ...older } = DEFAULT_SCORING_CONFIG;
    expect(() => validateScoringConfig(older)).not.toThrow();
  });
});
