import type { ContextPayload, VectorPoint } from '../../api/vector/vector-index.ts';
import type { TrainingExample } from '../../schemas/index.ts';
import { optionKey } from '../../schemas/index.ts';

/** Context embeddings by recommend session id (every revision of a session shares its A context). */
export type ContextEmbeddings =
  | ReadonlyMap<string, ArrayLike<number>>
  | ((example: TrainingExample) => ArrayLike<number> | null | undefined);

export interface ContextPointOptions {
  /**
   * Also index sessions that used a free style request ("정중하게") and kept a candidate (default
   * false). Their payload has `option_key: null`, so P_vec ignores them, yet they would take a
   * slot of the k neighbours it is given; they are worth indexing only once something reads them
   * (say, suggesting a style request from similar sentences).
   */
  readonly includeStyleRequests?: boolean;
  /**
   * Also index sessions whose candidates were all rejected (default false). P_vec reads a
   * neighbour as "this sentence was rewritten as X"; a rejected rewrite does not say X fitted.
   */
  readonly includeRejected?: boolean;
}

export interface ContextPointBatch {
  readonly upserts: VectorPoint[];
  /**
   * Sessions whose latest revision here no longer qualifies although an earlier one might have
   * been indexed (a late C within grace lowers consistency): their point must go.
   */
  readonly deletes: string[];
}

/**
 * Turns training examples (H) into vector-index points of their contexts, for the stream's index
 * sink. A session qualifies when its latest revision in the batch has `consistency: 'high'`, a
 * context, an embedding, and ended with a chosen option that the user kept (accepted or edited).
 * Point id = recommend session id, so a later revision replaces the earlier point. Pure.
 *
 * Only the latest revision per session in `examples` counts; across batches, revisions of a
 * session arrive in order (H is keyed by user, one writer per partition), so upserting in arrival
 * order leaves the newest.
 *
 * @example
 * const { upserts, deletes } = contextPointsFromExamples(batch, embeddingsBySession);
 * await index.delete(deletes);
 * await index.upsert(upserts);
 */
export function contextPointsFromExamples(
  examples: readonly TrainingExample[],
  embeddings: ContextEmbeddings,
  opts: ContextPointOptions = {},
): ContextPointBatch {
  const latest = new Map<string, TrainingExample>();
  for (const h of examples) {
    const cur = latest.get(h.recommend_session_id);
    if (!cur || h.revision >= cur.revision) latest.set(h.recommend_session_id, h);
  }
  const upserts: VectorPoint[] = [];
  const deletes: string[] = [];
  for (const [id, h] of latest) {
    const payload = payloadOf(h, opts);
    const vector = payload ? lookup(embeddings, h) : null;
    if (payload && vector) upserts.push({ id, vector: Float32Array.from(vector), payload });
    else if (h.revision > 1) deletes.push(id);
  }
  return { upserts, deletes };
}

function payloadOf(h: TrainingExample, opts: ContextPointOptions): ContextPayload | null {
  if (h.consistency !== 'high' || h.context === null) return null;
  const kept = h.outcome === 'accepted' || h.outcome === 'edited';
  if (!kept && !(opts.includeRejected && h.outcome === 'rejected')) return null;
  const option = h.chosen_option;
  if (option === null && !(opts.includeStyleRequests && h.style_request !== null && kept)) return null;
  return {
    option_key: option ? optionKey(option) : null,
    category: option?.category ?? null,
    intensity: option?.intensity ?? null,
    style_request: option ? null : h.style_request,
    language: h.context.language,
    user_id: h.user_id,
    consistency: h.consistency,
    example_id: h.event_id,
    ts: h.ts,
  };
}

function lookup(embeddings: ContextEmbeddings, h: TrainingExample): ArrayLike<number> | null {
  const v = typeof embeddings === 'function' ? embeddings(h) : embeddings.get(h.recommend_session_id);
  return v && v.length > 0 ? v : null;
}
