import type { OptionVocabulary, RankedOption, UserProfile } from '../../schemas/index.ts';
import {
  clusterComponent,
  conditionOnContext,
  type DocEvidenceInput,
  docComponent,
  indexOptions,
  type ScoringNeighbour,
  userComponent,
  userShare,
  vecComponent,
} from './components.ts';
import { type ScoringConfig, ScoringError, validateScoringConfig } from './config.ts';
import { explore } from './exploration.ts';
import type { ScoringCluster } from './pick-cluster.ts';
import { attribute, type ComponentName, type ComponentWeights, reasonText } from './reason.ts';

/**
 * Everything a score depends on, as plain data: no I/O, no clock. The API gathers it (profile
 * and cluster from Redis, neighbours from the vector index), the offline evaluation reads it
 * from logs, and both get the same numbers.
 */
export interface ScoringInputs {
  readonly vocabulary: OptionVocabulary;
  /** The context's language: neighbours in another language are ignored. */
  readonly language: string;
  readonly neighbours: readonly ScoringNeighbour[];
  readonly doc: DocEvidenceInput | null;
  readonly profile: UserProfile | null;
  /** The context embedding, compared with the user's per-option mean contexts. */
  readonly embedding: ArrayLike<number> | null;
  /** The user's cluster, or the soft assignment of `pickCluster` with its confidence. */
  readonly cluster: ScoringCluster | null;
  readonly config: ScoringConfig;
  /** Uniform in [0, 1), from the caller (`explorationDraw(sessionId)`), so exploration replays. */
  readonly draw: number;
}

export interface OptionExplain {
  readonly key: string;
  readonly greedyRank: number;
  readonly carriedBy: ComponentName | 'none';
  /** Each component's lift over uniform, in P_final units (they sum to score − 1/|O|). */
  readonly lift: Readonly<Record<ComponentName, number>>;
}

export interface ScoreExplain {
  /** Effective weights in P_final: 1 − α − β, α, β·w and β·(1 − w). */
  readonly weights: ComponentWeights;
  /** w = n / (n + k). */
  readonly userShare: number;
  /** n: the user's sessions with an option of the vocabulary. */
  readonly userSessions: number;
  readonly neighboursUsed: number;
  readonly neighboursGiven: number;
  readonly docField: string | null;
  readonly docHistory: number;
  readonly clusterId: number | null;
  readonly greedyTop: string;
  readonly draw: number;
  /** In vocabulary order. */
  readonly options: readonly OptionExplain[];
}

/** The ranked options and the logged fields of A that describe how they were ranked. */
export interface ScoreResult {
  /** Every option of the vocabulary, rank 1 first (log them all: IPS needs every propensity). */
  readonly options: RankedOption[];
  readonly alpha: number;
  readonly beta: number;
  readonly epsilon: number;
  readonly explored: boolean;
  readonly profile_version: number | null;
  readonly explain: ScoreExplain;
}

/**
 * Ranks the rewrite options of a vocabulary for one context (DESIGN §4):
 *
 *   P_user' = w·P_user + (1 − w)·P_cluster,  w = n / (n + k)
 *   P_final = (1 − α − β)·P_vec + α·P_doc + β·P_user'
 *
 * The cluster's weight β·k/(k + n) is the shrinkage of a user toward their cluster: all of β for
 * a user with no history (whose cluster is the nearest to their first sentence, `pickCluster`),
 * half at n = k, a fifth at n = 4k. With `clusterContextWeight` > 0 P_cluster is conditioned on
 * the context first (`conditionOnContext`).
 *
 * Each component is a distribution over the options (see components.ts); so is P_final. Options
 * are ranked by P_final (ties in vocabulary order), then ε-greedy exploration may promote one
 * to rank 1 (see `explore`). Every option carries its score, its four component values, its
 * propensity and a one-line reason. Pure and deterministic: the same inputs give a deep-equal
 * result, which is what lets `rescore` check a logged A.
 *
 * @example
 * const result = scoreOptions({
 *   vocabulary: DEFAULT_VOCABULARY, language: 'en', neighbours: hits, doc: { field: 'thesis', history: {} },
 *   profile, embedding, cluster, config: DEFAULT_SCORING_CONFIG, draw: explorationDraw(sessionId),
 * });
 * result.options[0]; // { category, intensity, rank: 1, score, propensity, components, reason }
 */
export function scoreOptions(inputs: ScoringInputs): ScoreResult {
  const c = inputs.config;
  validateScoringConfig(c);
  if (!(inputs.draw >= 0 && inputs.draw < 1)) {
    throw new ScoringError('scoring_input_invalid', `draw must be in [0, 1), got ${inputs.draw}`);
  }
  const opts = indexOptions(inputs.vocabulary);
  const n = opts.keys.length;
  if (n === 0) throw new ScoringError('scoring_input_invalid', 'the vocabulary has no options');

  const vec = vecComponent(opts, inputs.neighbours, inputs.language, c.smoothing);
  const doc = docComponent(opts, inputs.doc, c);
  const user = userComponent(opts, inputs.profile, inputs.embedding, c);
  const w = userShare(user.sessions, c.shrinkageK);
  const conf = clusterConfidence(inputs.cluster);
  const weights: ComponentWeights = {
    // α + β may exceed 1 by a rounding error (validation tolerates it); never weigh P_vec below 0.
    vec: Math.max(0, 1 - c.alpha - c.beta),
    doc: c.alpha,
    user: c.beta * w,
    // A soft assignment's confidence shrinks the cluster's part; the rest favours no option.
    cluster: c.beta * (1 - w) * conf,
  };
  const cluster0 = clusterComponent(opts, inputs.cluster, c.smoothing);
  const cluster = inputs.cluster
    ? {
        ...cluster0,
        p: conditionOnContext(cluster0.p, vec.p, doc.p, weights.vec, c.alpha, c.clusterContextWeight ?? 0),
      }
    : cluster0;
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // With a full-confidence cluster, scorer-v1's expression as it was: a logged A re-scores to the bit.
    const userBlend =
      conf === 1
        ? w * user.p[i]! + (1 - w) * cluster.p[i]!
        : w * user.p[i]! + (1 - w) * (conf * cluster.p[i]! + (1 - conf) / n);
    score[i] = weights.vec * vec.p[i]! + c.alpha * doc.p[i]! + c.beta * userBlend;
  }

  const greedy = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
  const greedyRank = new Int32Array(n);
  greedy.forEach((i, r) => {
    greedyRank[i] = r + 1;
  });
  const { order, explored, propensity } = explore(greedy, c.epsilon, inputs.draw);

  const evidence = { vec, doc, user, cluster };
  const explainOptions: OptionExplain[] = [];
  const reasons: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = attribute(i, weights, vec.p, doc.p, user.p, cluster.p);
    explainOptions.push({
      key: opts.keys[i]!,
      greedyRank: greedyRank[i]!,
      carriedBy: a.carriedBy,
      lift: a.lift,
    });
    reasons.push(reasonText(i, opts.options[i]!, a.carriedBy, evidence));
  }
  if (explored) {
    const i = order[0]!;
    reasons[i] = `shown first to explore (ε = ${c.epsilon}); otherwise rank ${greedyRank[i]}: ${reasons[i]}`;
  }

  const options: RankedOption[] = order.map((i, r) => ({
    category: opts.options[i]!.category,
    intensity: opts.options[i]!.intensity,
    rank: r + 1,
    score: score[i]!,
    propensity: propensity[i]!,
    components: { vec: vec.p[i]!, doc: doc.p[i]!, user: user.p[i]!, cluster: cluster.p[i]! },
    reason: reasons[i]!,
  }));

  return {
    options,
    alpha: c.alpha,
    beta: c.beta,
    epsilon: c.epsilon,
    explored,
    profile_version: inputs.profile?.version ?? null,
    explain: {
      weights,
      userShare: w,
      userSessions: user.sessions,
      neighboursUsed: vec.used,
      neighboursGiven: inputs.neighbours.length,
      docField: doc.field,
      docHistory: doc.historyTotal,
      clusterId: cluster.clusterId,
      greedyTop: opts.keys[greedy[0]!]!,
      draw: inputs.draw,
      options: explainOptions,
    },
  };
}

/** The cluster prior's confidence: a soft assignment's, clamped to [0, 1]; 1 for a J profile. */
function clusterConfidence(cluster: ScoringCluster | null): number {
  const conf = cluster?.confidence;
  if (conf === undefined) return 1;
  return Number.isFinite(conf) ? Math.min(1, Math.max(0, conf)) : 0;
}
