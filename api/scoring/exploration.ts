import { uniformHash } from '../../common/hash.ts';

/**
 * The exploration draw of a session: a uniform number in [0, 1) derived from the recommend session
 * id by hashing. The API uses it so that the draw is random across sessions (ids are random) yet
 * recoverable from the logged A alone, which is what makes exploration re-playable offline.
 *
 * @example
 * explorationDraw('rs-2f6c1d9e'); // always the same number in [0, 1) for this id
 */
export function explorationDraw(sessionId: string, salt = ''): number {
  return uniformHash(sessionId, salt);
}

export interface ExplorationOutcome {
  /** Option indices in display order (rank 1 first). */
  readonly order: readonly number[];
  readonly explored: boolean;
  /** Per option index: the probability the policy shows it at rank 1. */
  readonly propensity: Float64Array;
}

/**
 * ε-greedy at rank 1. With probability 1 − ε the greedy order is shown; with probability ε one of
 * the other |O| − 1 options, chosen uniformly, is promoted to rank 1 and the rest keep their
 * greedy order. One draw u decides both: explore iff u < ε, and then u/ε (uniform on [0, 1) given
 * u < ε) picks the option, in vocabulary order so the pick does not depend on score ties.
 *
 * Propensity(o) = P(o shown at rank 1) = 1 − ε for the greedy top and ε / (|O| − 1) for every
 * other option (1 and 0 when |O| = 1 or ε = 0), so the propensities sum to 1 and `explored`
 * is true exactly when rank 1 is not the greedy top. Off-policy evaluation (IPS) weighs a logged
 * session by 1 / propensity of the option it showed first.
 *
 * @example
 * explore([3, 0, 1, 2], 0.1, 0.05); // u < ε, u/ε = 0.5: option 1 (the middle of 0, 1, 2) goes first
 */
export function explore(greedy: readonly number[], epsilon: number, draw: number): ExplorationOutcome {
  const n = greedy.length;
  const propensity = new Float64Array(n);
  if (n === 0) return { order: [], explored: false, propensity };
  const top = greedy[0]!;
  if (n === 1 || epsilon <= 0) {
    propensity[top] = 1;
    return { order: [...greedy], explored: false, propensity };
  }
  const other = epsilon / (n - 1);
  propensity.fill(other);
  propensity[top] = 1 - epsilon;
  if (!(draw < epsilon)) return { order: [...greedy], explored: false, propensity };
  const j = Math.min(n - 2, Math.floor((draw / epsilon) * (n - 1)));
  // The j-th option in vocabulary (index) order, skipping the greedy top.
  const pick = j < top ? j : j + 1;
  const order = [pick, ...greedy.filter((i) => i !== pick)];
  return { order, explored: true, propensity };
}
