/**
 * Written into A as `model_version`: a logged A is re-scored with the config of its version
 * (`SCORING_CONFIGS`). v2: a user without a cluster gets a soft assignment (`clusterAssignTemperature`).
 */
export const SCORER_VERSION = 'scorer-v2';

/**
 * Everything the scorer's numbers depend on besides its inputs. α, β and ε are logged in every A;
 * the rest is fixed per `SCORER_VERSION`, so changing a default means a new version.
 */
export interface ScoringConfig {
  /** Weight of P_doc. */
  readonly alpha: number;
  /** Weight of P_user' (the user/cluster blend). P_vec gets 1 − α − β. */
  readonly beta: number;
  /** k in the user's share w = n / (n + k) of P_user' (n = the user's sessions with an option). */
  readonly shrinkageK: number;
  /**
   * Dirichlet pseudo-count mass, spread evenly over the options, added to every count-based
   * distribution: P(o) = (c_o + λ/|O|) / (Σc + λ). It is a total, not per option, so a vocabulary
   * twice the size is not smoothed twice as hard.
   */
  readonly smoothing: number;
  /** Probability of promoting a non-greedy option to rank 1. */
  readonly epsilon: number;
  /** Softmax temperature over cosine similarities to the user's per-option embeddings. */
  readonly temperature: number;
  /** Share of the similarity part in P_user; the rest is the user's smoothed option counts. */
  readonly userSimilarityWeight: number;
  /** Mass the declared doc field puts on its category (spread over intensities); rest uniform. */
  readonly docFieldShare: number;
  /** k in the same-document history's share H / (H + k) of P_doc against the doc field. */
  readonly docHistoryK: number;
  /** Weight of a session whose option was used but whose candidates were not kept (accepted = 1). */
  readonly rejectedWeight: number;
  /**
   * γ_c: share of P_cluster conditioned on the context, P_cluster ⊙ P_ctx renormalised, where
   * P_ctx is the non-personal part of the blend ((1 − α − β)·P_vec + α·P_doc, renormalised):
   * "what people like this user pick, among what sentences like this end with". 0 (scorer-v1)
   * keeps P_cluster context-free; absent means 0. See docs/personas-evaluation.md for its effect.
   */
  readonly clusterContextWeight?: number;
  /**
   * T of the soft cluster assignment of a user without a cluster (`pickCluster`): softmax over
   * cos(context, centroid)/T, the cluster prior weighted by the assignment's confidence. Absent
   * or 0 (scorer-v1): the single nearest cluster, with all of β·(1 − w).
   */
  readonly clusterAssignTemperature?: number;
}

/**
 * Defaults of `scorer-v2` (`scorer-v1`'s plus the soft cold-start assignment). α = 0.2 and β = 0.55 leave P_vec 0.25: past contexts are the broadest
 * evidence, the user's own history the sharpest. k = 5: after 5 sessions with an option the user
 * and their cluster weigh the same; after 20 the user has 80 %. The similarity part of P_user
 * is kept at 0.2: with few sessions per option, per-option mean contexts are noisy, and in the
 * persona evaluation a larger share (0.5, with β 0.4) lost 7 points of hit@1 for users with
 * more than 10 sessions (0.86 against 0.93 over 1,500 sessions, seed 42). T = 0.1 of the
 * cold-start assignment: with the hashing embedder a sentence is ~0.05 closer in cosine to its own
 * field's mean context than to the next field's, so one sentence tilts the weights (e^0.5 ≈ 1.6×)
 * rather than picking a cluster, and the confidence stays low until the sentence is unmistakable;
 * sharper (T = 0.03) still left first sessions below the non-personalised baseline in the persona
 * evaluation (18.8 % vs 29.2 %, seed 1), T = 0.1 above it (31.3 %); docs/personas-evaluation.md.
 */
export const DEFAULT_SCORING_CONFIG: ScoringConfig = Object.freeze({
  alpha: 0.2,
  beta: 0.55,
  shrinkageK: 5,
  smoothing: 1,
  epsilon: 0.05,
  temperature: 0.1,
  userSimilarityWeight: 0.2,
  docFieldShare: 0.6,
  docHistoryK: 2,
  rejectedWeight: 0.5,
  clusterContextWeight: 0,
  clusterAssignTemperature: 0.1,
});

/** `scorer-v1`: a user without a cluster got the single nearest one, with all of β·(1 − w). */
export const SCORER_V1_CONFIG: ScoringConfig = Object.freeze({
  ...DEFAULT_SCORING_CONFIG,
  clusterAssignTemperature: 0,
});

/** The config of each scorer version a logged A may name. */
export const SCORING_CONFIGS: Readonly<Record<string, ScoringConfig>> = Object.freeze({
  'scorer-v1': SCORER_V1_CONFIG,
  [SCORER_VERSION]: DEFAULT_SCORING_CONFIG,
});

/** Bad scoring input or config: the caller must fix it, a retry cannot help (→ HTTP 400). */
export class ScoringError extends Error {
  readonly code: 'scoring_config_invalid' | 'scoring_input_invalid';
  readonly retriable = false;

  constructor(code: ScoringError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScoringError';
    this.code = code;
  }
}

/** Tolerance for α + β ≤ 1 so that, say, 0.7 + 0.3 computed in floating point still passes. */
const SUM_TOLERANCE = 1e-12;

/**
 * Throws a `ScoringError` naming the first invalid field: α, β ≥ 0 and α + β ≤ 1, ε and the shares
 * in [0, 1], k's and λ ≥ 0, temperature > 0.
 *
 * @example
 * validateScoringConfig({ ...DEFAULT_SCORING_CONFIG, alpha: 0.7, beta: 0.5 }); // throws: α + β > 1
 */
export function validateScoringConfig(c: ScoringConfig): void {
  const fail = (m: string): never => {
    throw new ScoringError('scoring_config_invalid', m);
  };
  const finite = (name: keyof ScoringConfig) => {
    if (typeof c[name] !== 'number' || !Number.isFinite(c[name])) fail(`${name} must be a finite number`);
  };
  for (const k of Object.keys(DEFAULT_SCORING_CONFIG) as (keyof ScoringConfig)[]) {
    if ((k === 'clusterContextWeight' || k === 'clusterAssignTemperature') && c[k] === undefined) continue;
    finite(k);
  }
  if (c.alpha < 0) fail(`alpha must be >= 0, got ${c.alpha}`);
  if (c.beta < 0) fail(`beta must be >= 0, got ${c.beta}`);
  if (c.alpha + c.beta > 1 + SUM_TOLERANCE) fail(`alpha + beta must be <= 1, got ${c.alpha} + ${c.beta}`);
  for (const k of ['epsilon', 'userSimilarityWeight', 'docFieldShare', 'rejectedWeight'] as const) {
    if (c[k] < 0 || c[k] > 1) fail(`${k} must be in [0, 1], got ${c[k]}`);
  }
  const g = c.clusterContextWeight ?? 0;
  if (g < 0 || g > 1) fail(`clusterContextWeight must be in [0, 1], got ${g}`);
  if ((c.clusterAssignTemperature ?? 0) < 0) {
    fail(`clusterAssignTemperature must be >= 0, got ${c.clusterAssignTemperature}`);
  }
  for (const k of ['shrinkageK', 'smoothing', 'docHistoryK'] as const) {
    if (c[k] < 0) fail(`${k} must be >= 0, got ${c[k]}`);
  }
  if (c.temperature <= 0) fail(`temperature must be > 0, got ${c.temperature}`);
}
