import { z } from 'zod';
import { sessionEventSchema } from './events.ts';

/**
 * Why a record went to the dead-letter topic. Decode: `malformed_json`, `schema_invalid`,
 * `oversized`, `wrong_key`; the session join: `too_late`, `beyond_grace`, `session_closed`,
 * `conflicting_recommend`, `user_mismatch`; a sink: `sink_rejected` (its store refused the record
 * for good, so retrying cannot help).
 */
export const deadLetterCodeSchema = z.enum([
  'malformed_json',
  'schema_invalid',
  'oversized',
  'too_late',
  'beyond_grace',
  'session_closed',
  'conflicting_recommend',
  'user_mismatch',
  'wrong_key',
  'sink_rejected',
]);
export type DeadLetterCode = z.infer<typeof deadLetterCodeSchema>;

/**
 * The message on the dead-letter topic (`encodeDeadLetter`): the reason, where the record was read,
 * and either the parsed A/B/C event or (decode failures, records a sink refused) its raw bytes.
 */
export const deadLetterSchema = z.object({
  code: deadLetterCodeSchema,
  reason: z.string(),
  topic: z.string().min(1),
  partition: z.number().int().min(0),
  offset: z.number().int().min(0),
  event_id: z.string().nullable(),
  recommend_session_id: z.string().nullable(),
  /** The parsed event when there was one; decode failures carry the raw bytes instead. */
  event: sessionEventSchema.optional(),
  /** The record's value as UTF-8, cut at 64 KiB. */
  raw: z.string().optional(),
  /** With `sink_rejected`: the name of the sink whose store refused the record. */
  sink: z.string().min(1).optional(),
  /** `topic/partition@offset`, for people reading the topic. */
  dead_lettered_from: z.string(),
});
export type DeadLetterMessage = z.infer<typeof deadLetterSchema>;

/** A dead letter as the processors hand it around, before `encodeDeadLetter` adds `dead_lettered_from`. */
export type DeadLetter = Readonly<Omit<DeadLetterMessage, 'dead_lettered_from'>>;
