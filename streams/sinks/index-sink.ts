import type { VectorIndex } from '../../api/vector/vector-index.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import type { LogRecord } from '../log/event-log.ts';
import { contextPointsFromExamples } from './context-points.ts';
import { decodeExamples, embedContexts } from './decode-examples.ts';
import type { Sink } from './sink.ts';

export interface IndexSinkOptions {
  readonly index: VectorIndex;
  /** The profile fold's embedder (same model and dimension), so P_vec compares like with like. */
  readonly embedder: Embedder;
  readonly topic: string;
  readonly group: string;
  /**
   * An index that lives only in its process (the in-process one) is rebuilt from the beginning of
   * H at every start, in a group of its own; a shared index (Qdrant) resumes from its group's commit.
   */
  readonly fromBeginning?: boolean;
  /**
   * Points upserted per call; the event loop is yielded between slices, so catching up on a long
   * log does not hold up /recommend in the same process.
   */
  readonly sliceSize?: number;
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The nearest-past-contexts index behind P_vec, as a sink of H: high-consistency sessions that
 * ended with a kept option become points (`contextPointsFromExamples`); a session whose latest
 * revision no longer qualifies is deleted. Point id = session id, so replays and revisions
 * upsert the same point.
 *
 * @example
 * runSink(createIndexSink({ index, embedder, topic: topics.trainingExamples, group }), deps);
 */
export function createIndexSink(o: IndexSinkOptions): Sink {
  const slice = o.sliceSize ?? 256;
  return {
    name: 'index',
    group: o.group,
    topics: [o.topic],
    fromBeginning: o.fromBeginning ?? true,
    async apply(records: readonly LogRecord[]) {
      const { examples, rejected } = decodeExamples(records);
      const hs = examples.map((x) => x.h);
      const byText = await embedContexts((t) => o.embedder.embed(t), hs);
      const { upserts, deletes } = contextPointsFromExamples(hs, (h) =>
        h.context ? byText.get(h.context.text) : null,
      );
      // Deletes first: a session whose latest revision no longer qualifies leaves the index, and
      // one that qualifies again in this batch is upserted after.
      if (deletes.length > 0) await o.index.delete(deletes);
      for (let i = 0; i < upserts.length; i += slice) {
        await o.index.upsert(upserts.slice(i, i + slice));
        if (i + slice < upserts.length) await yieldLoop();
      }
      return {
        counts: { upserts: upserts.length, deletes: deletes.length, undecodable: rejected.length },
      };
    },
  };
}
