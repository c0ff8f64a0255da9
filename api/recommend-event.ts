import { type RecommendEvent, SCHEMA_VERSION, type SessionEvent } from '../schemas/index.ts';
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

const writtenOptions = new WeakMap<object, string>();
/**
 * The JSON of the options `/recommend` showed, written once: they are most of both the answer
 * and A (~34 ranked options of 6 doubles each, whose shortest round-trip formatting is what
 * `JSON.stringify` spends its time on), and both carry the very same array. Cached per array, so
 * the array must not change after it was first written (the route's `shown` does not).
 *
 * @example
 * const text = jsonWithField(response, 'options', optionsJson(shown)); // === JSON.stringify(response)
 */
export function optionsJson(options: readonly object[]): string {
  let json = writtenOptions.get(options);
  if (json === undefined) {
    json = JSON.stringify(options);
    writtenOptions.set(options, json);
  }
  return json;
}

/**
 * `JSON.stringify(obj)` with the value of `key` already written as `valueJson`: the same text,
 * keys in the same order, the rest written by `JSON.stringify`. For plain data objects (no
 * `toJSON`, no `__proto__` key); without the key it is `JSON.stringify(obj)`.
 */
export function jsonWithField(
  obj: Readonly<Record<string, unknown>>,
  key: string,
  valueJson: string,
): string {
  if (!Object.hasOwn(obj, key) || obj[key] === undefined) return JSON.stringify(obj);
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  let seen = false;
  for (const k of Object.keys(obj)) {
    if (k === key) seen = true;
    else if (seen) after[k] = obj[k];
    else before[k] = obj[k];
  }
  const head = JSON.stringify(before);
  const tail = JSON.stringify(after);
  const field = `${JSON.stringify(key)}:${valueJson}`;
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}${field}${tail.length > 2 ? `,${tail.slice(1)}` : '}'}`;
}

/**
 * An event as the event log stores it: `JSON.stringify(e)`, except that an A reuses the JSON of
 * its options when the answer wrote it (or writes it for the answer to reuse).
 *
 * @example
 * const value = Buffer.from(eventJson(e));
 */
export function eventJson(e: SessionEvent): string {
  if (e.type !== 'recommend') return JSON.stringify(e);
  return jsonWithField(e as unknown as Record<string, unknown>, 'options', optionsJson(e.options));
}
