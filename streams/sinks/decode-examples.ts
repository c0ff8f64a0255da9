import type { TrainingExample } from '../../schemas/index.ts';
import { decodeExample } from '../codec/session-codec.ts';
import type { LogRecord } from '../log/event-log.ts';
import type { SinkRejection } from './sink.ts';

/**
 * H records as examples, and the ones that do not decode as H as rejections with the reason (a
 * sink of H dead-letters them instead of stalling on them).
 */
export function decodeExamples(records: readonly LogRecord[]): {
  examples: { h: TrainingExample; rec: LogRecord }[];
  rejected: SinkRejection[];
} {
  const examples: { h: TrainingExample; rec: LogRecord }[] = [];
  const rejected: SinkRejection[] = [];
  for (const rec of records) {
    const h = decodeExample(rec);
    if ('code' in h)
      rejected.push({ record: rec, reason: `not a training example (${h.code}): ${h.reason}` });
    else examples.push({ h, rec });
  }
  return { examples, rejected };
}

/** Embeddings of the examples' context texts, each distinct text embedded once. */
export async function embedContexts(
  embed: (texts: string[]) => Promise<ArrayLike<number>[]>,
  examples: readonly TrainingExample[],
): Promise<Map<string, ArrayLike<number>>> {
  const texts = [...new Set(examples.flatMap((h) => (h.context ? [h.context.text] : [])))];
  const vectors = texts.length > 0 ? await embed(texts) : [];
  return new Map(texts.map((t, i) => [t, vectors[i]!]));
}
