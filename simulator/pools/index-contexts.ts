import type { ContextPayload, VectorIndex, VectorPoint } from '../../api/vector/vector-index.ts';
import type { Embedder } from '../../streams/embeddings/embedder.ts';
import type { ContextSample } from './contexts.ts';

/**
 * The payload of a pool context (E): its category and language, no user, no option (nothing was
 * chosen for it), `consistency: 'low'` because no session vouches for it. `example_id` is
 * `e:<id>` so a pool neighbour is never mistaken for an H example.
 */
export function contextPoolPayload(sample: ContextSample, ts: string): ContextPayload {
  return {
    option_key: null,
    category: sample.category,
    intensity: null,
    style_request: null,
    language: sample.language,
    user_id: null,
    consistency: 'low',
    example_id: `e:${sample.id}`,
    ts,
  };
}

/** Pool contexts and their embeddings → points keyed by the context id. Pure. */
export function contextPoolPoints(
  samples: readonly ContextSample[],
  vectors: readonly ArrayLike<number>[],
  ts: string,
): VectorPoint[] {
  if (samples.length !== vectors.length)
    throw new RangeError(`${samples.length} contexts but ${vectors.length} embeddings`);
  return samples.map((s, i) => ({ id: s.id, vector: vectors[i]!, payload: contextPoolPayload(s, ts) }));
}

export interface IndexContextPoolOptions {
  readonly embedder: Embedder;
  readonly index: VectorIndex;
  /** Contexts embedded and upserted per step (default 200). */
  readonly batchSize?: number;
  /** Event time written to every point; the same value makes a re-run rewrite identical points. */
  readonly ts: string;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Embeds the context pool and upserts it into `index`, batch by batch. Idempotent: a context's
 * point id is its pool id, so running it again (or after a crash half-way) replaces the same
 * points and adds none.
 *
 * @example
 * await indexContextPool(loadContextPool(), { embedder: createHashingEmbedder(), index, ts });
 */
export async function indexContextPool(
  samples: readonly ContextSample[],
  o: IndexContextPoolOptions,
): Promise<{ readonly upserted: number; readonly size: number }> {
  const step = o.batchSize ?? 200;
  let done = 0;
  o.onProgress?.(0, samples.length);
  for (let i = 0; i < samples.length; i += step) {
    const chunk = samples.slice(i, i + step);
    const vectors = await o.embedder.embed(chunk.map((s) => s.text));
    await o.index.upsert(contextPoolPoints(chunk, vectors, o.ts));
    done += chunk.length;
    o.onProgress?.(done, samples.length);
  }
  return { upserted: done, size: await o.index.size() };
}
