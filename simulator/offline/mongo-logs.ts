import type { MongoClient } from 'mongodb';
import {
  type RecommendEvent,
  recommendEventSchema,
  type TrainingExample,
  trainingExampleSchema,
} from '../../schemas/index.ts';
import { MONGO_COLLECTIONS } from '../../streams/stores/mongo-stores.ts';
import type { RunLogs } from './wheel-logs.ts';

/**
 * The logged A and H in MongoDB: the latest H of each session from `training_examples` and the
 * recommend events of the `events` archive (for their ε). Documents that no longer match the
 * schemas are left out. The client must be connected.
 *
 * @example
 * const logs = await readLogsFromMongo(client, 'sentencify');
 */
export async function readLogsFromMongo(
  client: MongoClient,
  db: string,
  o: { withRecommends?: boolean } = {},
): Promise<RunLogs> {
  const d = client.db(db);
  const examples: TrainingExample[] = [];
  for await (const doc of d
    .collection(MONGO_COLLECTIONS.trainingExamples)
    .find({}, { projection: { example: 1 } })) {
    const r = trainingExampleSchema.safeParse(doc.example);
    if (r.success) examples.push(r.data);
  }
  const recommends: RecommendEvent[] = [];
  if (o.withRecommends ?? true) {
    for await (const doc of d
      .collection(MONGO_COLLECTIONS.events)
      .find({ type: 'recommend' }, { projection: { event: 1 } })) {
      const r = recommendEventSchema.safeParse(doc.event);
      if (r.success) recommends.push(r.data);
    }
  }
  return { recommends, examples };
}
