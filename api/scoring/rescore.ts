import type { RecommendEvent } from '../../schemas/index.ts';
import { SCORING_CONFIGS, type ScoringConfig, ScoringError } from './config.ts';
import { explorationDraw } from './exploration.ts';
import { type ScoreResult, type ScoringInputs, scoreOptions } from './score-options.ts';

/** The inputs A does not log: what the API read from G, J, the index and the document. */
export type CapturedInputs = Omit<ScoringInputs, 'config' | 'draw' | 'language'> & {
  /** Config of the A's scorer version, minus α, β and ε, which A logs (default: its version's). */
  readonly config?: ScoringConfig;
  /** The draw; by default re-derived from the session id as the API derives it. */
  readonly draw?: number;
};

export interface RescoreReport {
  readonly result: ScoreResult;
  /** True when every logged number, rank, reason and flag is reproduced exactly. */
  readonly matches: boolean;
  /** One line per mismatch, e.g. `rank 2 (email:strong) score: logged 0.12, rescored 0.121`. */
  readonly differences: string[];
}

/**
 * Re-scores a logged A from its captured inputs and checks every number against the log with
 * `===` — no tolerance: the scorer is pure, JSON round-trips doubles exactly, so any difference
 * means different inputs or a different scorer. α, β, ε and the language come from the A itself,
 * the draw from its session id. Options the A left out (if a producer logged only a top few) are
 * not compared; their absence is not an error.
 *
 * @example
 * const { matches, differences } = rescore(aEvent, { vocabulary, neighbours, doc, profile, embedding, cluster });
 */
export function rescore(a: RecommendEvent, captured: CapturedInputs): RescoreReport {
  const known = Object.hasOwn(SCORING_CONFIGS, a.model_version)
    ? SCORING_CONFIGS[a.model_version]
    : undefined;
  if (known === undefined && captured.config === undefined) {
    throw new ScoringError(
      'scoring_input_invalid',
      `A ${a.event_id} was scored by ${a.model_version}; pass that version's config to re-score it`,
    );
  }
  const config: ScoringConfig = {
    ...(captured.config ?? known!),
    alpha: a.alpha,
    beta: a.beta,
    epsilon: a.epsilon,
  };
  const result = scoreOptions({
    vocabulary: captured.vocabulary,
    language: a.context.language,
    neighbours: captured.neighbours,
    doc: captured.doc,
    profile: captured.profile,
    embedding: captured.embedding,
    cluster: captured.cluster,
    config,
    draw: captured.draw ?? explorationDraw(a.recommend_session_id),
  });

  const differences: string[] = [];
  const diff = (what: string, logged: unknown, now: unknown) => {
    if (logged !== now) differences.push(`${what}: logged ${String(logged)}, rescored ${String(now)}`);
  };
  diff('explored', a.explored, result.explored);
  diff('profile_version', a.profile_version, result.profile_version);
  const byKey = new Map(result.options.map((o) => [`${o.category}:${o.intensity}`, o]));
  for (const logged of a.options) {
    const key = `${logged.category}:${logged.intensity}`;
    const now = byKey.get(key);
    const at = `rank ${logged.rank} (${key})`;
    if (!now) {
      differences.push(`${at}: not an option of the vocabulary`);
      continue;
    }
    diff(`${at} rank`, logged.rank, now.rank);
    diff(`${at} score`, logged.score, now.score);
    diff(`${at} propensity`, logged.propensity, now.propensity);
    for (const c of ['vec', 'doc', 'user', 'cluster'] as const) {
      diff(`${at} components.${c}`, logged.components[c], now.components[c]);
    }
    if (logged.reason !== undefined) diff(`${at} reason`, logged.reason, now.reason);
  }
  return { result, matches: differences.length === 0, differences };
}
