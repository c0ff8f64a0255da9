import { describe, expect, it } from 'vitest';
import {
  decisionFromExample,
  inferEpsilon,
  type LoggedDecision,
  offPolicyEstimate,
  onPolicyValue,
  recoverUserShare,
  targetPropensities,
} from '../../../analytics/counterfactual.ts';
import { indexOptions } from '../../../api/scoring/components.ts';
import { DEFAULT_SCORING_CONFIG, explore, scoreOptions } from '../../../api/scoring/index.ts';
import { mulberry32 } from '../../../common/random.ts';
import { DEFAULT_VOCABULARY, type TrainingExample } from '../../../schemas/index.ts';
import { clusterWith, inputs, nb, profileWith } from '../api/scoring/fixtures.ts';

const KEYS = indexOptions(DEFAULT_VOCABULARY).keys;

describe('target propensities come from the same scorer', () => {
  /** A random but realistic A: a profile, a cluster and neighbours over the default vocabulary. */
  function randomInputs(seed: number, config = DEFAULT_SCORING_CONFIG) {
    const rnd = mulberry32(seed);
    const pick = () => KEYS[Math.floor(rnd() * KEYS.length)]!;
    const opts: Record<string, [number, number]> = {};
    for (let i = Math.floor(rnd() * 6); i > 0; i--) {
      const s = 1 + Math.floor(rnd() * 8);
      opts[pick()] = [s, Math.floor(rnd() * (s + 1))];
    }
    const dist: Record<string, number> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--) dist[pick()] = rnd();
    return inputs({
      profile: profileWith(opts),
      cluster: rnd() < 0.7 ? clusterWith(1, dist, 1 + Math.floor(rnd() * 30)) : null,
      neighbours: Array.from({ length: Math.floor(rnd() * 12) }, () => nb(pick(), rnd())),
      doc: rnd() < 0.5 ? { field: DEFAULT_VOCABULARY.categories[0]!, history: { [pick()]: 1 } } : null,
      draw: rnd(),
      config,
    });
  }
  const asDecision = (r: ReturnType<typeof scoreOptions>): LoggedDecision => ({
    sessionId: 's',
    options: r.options.map((o) => ({ key: `${o.category}:${o.intensity}`, ...o })),
    alpha: r.alpha,
    beta: r.beta,
    epsilon: r.epsilon,
    chosen: null,
    accepted: false,
  });
  const byKey = (r: ReturnType<typeof scoreOptions>) =>
    new Map(r.options.map((o) => [`${o.category}:${o.intensity}`, o.propensity]));

  it('reproduces the logged propensities for the logging policy, and the scorer’s for another α, β, ε', () => {
    const target = { ...DEFAULT_SCORING_CONFIG, alpha: 0.35, beta: 0.3, epsilon: 0.1 };
    for (let seed = 1; seed <= 300; seed++) {
      const logged = scoreOptions(randomInputs(seed));
      const d = asDecision(logged);
      expect(Array.from(targetPropensities(d, {}))).toEqual(d.options.map((o) => o.propensity));
      const rescored = byKey(scoreOptions({ ...randomInputs(seed), config: target }));
      const mine = targetPropensities(d, { alpha: 0.35, beta: 0.3, epsilon: 0.1 });
      d.options.forEach((o, i) => {
        expect(mine[i], `seed ${seed} ${o.key}`).toBe(rescored.get(o.key));
      });
    }
  });

  it('recovers the user share w = n / (n + k) from the logged scores', () => {
    const r = scoreOptions(randomInputs(7));
    const w = recoverUserShare(asDecision(r));
    if (w === null) expect(r.explain.userShare === 0 || r.beta === 0).toBe(true);
    else expect(w).toBeCloseTo(r.explain.userShare, 10);
    expect(inferEpsilon(r.options)).toBeCloseTo(DEFAULT_SCORING_CONFIG.epsilon, 12);
  });
});

/**
 * A synthetic log with a known answer: K options with random components, a logging policy that is
 * ε-greedy over the scorer's blend, users who pick their P_user top 60 % of the time (else any
 * option), and acceptance 0.7 when the option shown first is the one they use, else 0.3. The true
 * value of any target policy is then E[π(chosen)] for hit@1 and E[0.3 + 0.4·π(chosen)] for acceptance.
 */
function synth(seed: number, n: number, logging: { alpha: number; beta: number; epsilon: number }, k = 6) {
  const rnd = mulberry32(seed);
  const keys = KEYS.slice(0, k);
  const decisions: LoggedDecision[] = [];
  const truthInputs: {
    comps: { vec: number; doc: number; user: number; cluster: number }[];
    w: number;
    chosen: number;
  }[] = [];
  for (let s = 0; s < n; s++) {
    const comps = keys.map(() => ({ vec: rnd(), doc: rnd(), user: rnd(), cluster: rnd() }));
    const w = rnd();
    const score = comps.map(
      (c) =>
        Math.max(0, 1 - logging.alpha - logging.beta) * c.vec +
        logging.alpha * c.doc +
        logging.beta * (w * c.user + (1 - w) * c.cluster),
    );
    const greedy = keys.map((_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
    const { order, propensity } = explore(greedy, logging.epsilon, rnd());
    const userTop = comps.reduce((b, c, i) => (c.user > comps[b]!.user ? i : b), 0);
    const chosen = rnd() < 0.6 ? userTop : Math.floor(rnd() * k);
    const hit = order[0] === chosen;
    const accepted = rnd() < (hit ? 0.7 : 0.3);
    decisions.push({
      sessionId: `s${s}`,
      options: order.map((i) => ({
        key: keys[i]!,
        score: score[i]!,
        propensity: propensity[i]!,
        components: comps[i]!,
      })),
      alpha: logging.alpha,
      beta: logging.beta,
      epsilon: logging.epsilon,
      chosen: keys[chosen]!,
      accepted,
    });
    truthInputs.push({ comps, w, chosen });
  }
  const truth = (t: { alpha: number; beta: number; epsilon: number }) => {
    let hit = 0;
    for (const x of truthInputs) {
      const score = x.comps.map(
        (c) =>
          Math.max(0, 1 - t.alpha - t.beta) * c.vec +
          t.alpha * c.doc +
          t.beta * (x.w * c.user + (1 - x.w) * c.cluster),
      );
      const greedy = keys.map((_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
      hit += explore(greedy, t.epsilon, 0).propensity[x.chosen]!;
    }
    const h = hit / truthInputs.length;
    return { hitAt1: h, acceptance: 0.3 + 0.4 * h };
  };
  return { decisions, truth };
}

describe('IPS and SNIPS on synthetic logs with a known answer', () => {
  const target = { alpha: 0.1, beta: 0.8, epsilon: 0.05 };

  it('with a uniform logging policy both land on the true value, inside their intervals', () => {
    // ε = (K − 1)/K makes ε-greedy uniform: every option 1/K.
    const { decisions, truth } = synth(11, 20_000, { alpha: 0.2, beta: 0.2, epsilon: 5 / 6 });
    expect(decisions[0]!.options.every((o) => Math.abs(o.propensity - 1 / 6) < 1e-12)).toBe(true);
    const t = truth(target);
    const e = offPolicyEstimate(decisions, target);
    for (const m of ['hitAt1', 'acceptance'] as const) {
      for (const est of ['ips', 'snips'] as const) {
        const i = e[m][est];
        expect(i.low, `${m} ${est}`).toBeLessThanOrEqual(t[m]);
        expect(i.high, `${m} ${est}`).toBeGreaterThanOrEqual(t[m]);
        expect(Math.abs(i.estimate - t[m])).toBeLessThan(0.03);
      }
    }
    // The logging policy's own value is far from the target's: the estimate moved, it did not echo the log.
    expect(Math.abs(e.logged.hitAt1 - t.hitAt1)).toBeGreaterThan(0.1);
  });

  it('with ε-greedy logging (ε = 0.3) the 95 % intervals cover the truth in about 95 % of 100 logs', () => {
    let coveredIps = 0;
    let coveredSnips = 0;
    let t = { hitAt1: 0, acceptance: 0 };
    for (let r = 0; r < 100; r++) {
      const s = synth(500 + r, 800, { alpha: 0.2, beta: 0.3, epsilon: 0.3 });
      t = s.truth(target);
      const e = offPolicyEstimate(s.decisions, target);
      if (e.hitAt1.ips.low <= t.hitAt1 && t.hitAt1 <= e.hitAt1.ips.high) coveredIps++;
      if (e.hitAt1.snips.low <= t.hitAt1 && t.hitAt1 <= e.hitAt1.snips.high) coveredSnips++;
    }
    console.log(
      `coverage of the 95 % intervals over 100 logs: IPS ${((coveredIps / 100) * 100).toFixed(1)} %, SNIPS ${((coveredSnips / 100) * 100).toFixed(1)} % (true hit@1 ≈ ${t.hitAt1.toFixed(3)})`,
    );
    expect(coveredIps / 100).toBeGreaterThanOrEqual(0.88);
    expect(coveredSnips / 100).toBeGreaterThanOrEqual(0.88);
  });

  it('with the logging policy as target every weight is 1 and both equal the logged means', () => {
    const { decisions } = synth(3, 2_000, { alpha: 0.2, beta: 0.3, epsilon: 0.3 });
    const e = offPolicyEstimate(decisions, {});
    const on = onPolicyValue(decisions);
    expect(e.maxWeight).toBeCloseTo(1, 12);
    expect(e.effectiveSampleSize).toBeCloseTo(2_000, 6);
    expect(e.sameTop).toBe(1);
    expect(e.hitAt1.ips.estimate).toBeCloseTo(on.hitAt1, 12);
    expect(e.hitAt1.snips.estimate).toBeCloseTo(on.hitAt1, 12);
    expect(e.acceptance.ips.estimate).toBeCloseTo(on.acceptance, 12);
  });
});

describe('decisionFromExample', () => {
  it('reads an H: options by rank, ε from the propensities, the chosen option and the outcome', () => {
    const opt = (category: string, rank: number, propensity: number) => ({
      category,
      intensity: 'strong' as const,
      rank,
      score: 1 / rank,
      propensity,
      components: { vec: 0.1, doc: 0.1, user: 0.1, cluster: 0.1 },
    });
    const h = {
      recommend_session_id: 'rs-1',
      revision: 1,
      recommended: {
        options: [opt('email', 2, 0.05), opt('thesis', 1, 0.9), opt('report', 3, 0.05)],
        alpha: 0.2,
        beta: 0.55,
      },
      chosen_option: { category: 'thesis', intensity: 'strong' },
      outcome: 'edited',
    } as unknown as TrainingExample;
    const d = decisionFromExample(h)!;
    expect(d.options.map((o) => o.key)).toEqual(['thesis:strong', 'email:strong', 'report:strong']);
    expect(d.epsilon).toBeCloseTo(0.1, 12);
    expect(d.chosen).toBe('thesis:strong');
    expect(d.accepted).toBe(true);
    expect(decisionFromExample({ ...h, recommended: null })).toBeNull();
  });
});
