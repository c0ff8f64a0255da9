import { type RecommendEvent, SCHEMA_VERSION } from '../schemas/index.ts';
import type { RecommendRequest } from './schemas.ts';
import { SCORER_VERSION, type ScoreResult } from './scoring/index.ts';
import type { SearchHit } from './vector/vector-index.ts';

/** Everything `/recommend` knows once it has scored: the request and what the scorer read and said. */
export interface RecommendEventInput {
  readonly eventId: string;
  /** When the API answered, in ms since the epoch (the event time of A). */
  readonly at: number;
  readonly sessionId: string;
  readonly request: RecommendRequest;
  /** The request's language, or the one detected from its text. */
  readonly language: string;
  readonly result: ScoreResult;
  readonly variant: string;
  readonly neighbours: readonly SearchHit[];
  readonly docHistory: Record<string, number>;
  readonly clusterId: number | null;
}

/**
 * A, built from the answer `/recommend` gave: the options shown with every component and
 * propensity, and the inputs the scorer read besides the profile (neighbours, the document's
 * history, the cluster), so a logged A can be re-scored exactly (`rescore`). Pure: ids and time
 * come in with the input.
 *
 * @example
 * const a = buildRecommendEvent({ eventId: newId(), at: clock(), sessionId, request: body, language,
 *   result, variant, neighbours, docHistory: history, clusterId: cluster?.cluster_id ?? null });
 */
export function buildRecommendEvent(i: RecommendEventInput): RecommendEvent {
  const { request: body, result } = i;
  return {
    type: 'recommend',
    event_id: i.eventId,
    schema_version: SCHEMA_VERSION,
    ts: new Date(i.at).toISOString(),
    user_id: body.user_id,
    recommend_session_id: i.sessionId,
    doc_id: body.doc_id,
    context: {
      text: body.text,
      prev_sentence: body.prev_sentence,
      next_sentence: body.next_sentence,
      language: i.language,
      doc_field: body.doc_field,
    },
    options: result.options,
    alpha: result.alpha,
    beta: result.beta,
    variant: i.variant,
    epsilon: result.epsilon,
    explored: result.explored,
    model_version: SCORER_VERSION,
    profile_version: result.profile_version,
    inputs: {
      neighbours: i.neighbours.map((n) => ({
        id: n.id,
        score: n.score,
        option_key: n.payload.option_key,
        language: n.payload.language,
      })),
      doc_history: i.docHistory,
      cluster_id: i.clusterId,
    },
  };
}
