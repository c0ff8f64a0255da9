import { z } from 'zod';
import { idSchema, isoUtc } from './common.ts';

/**
 * An erasure request for one user (`DELETE /users/:id`), published on `<ns>.erasure` keyed by
 * user_id. Every store of the topology removes what it holds of the user whose data is at or before
 * `ts`, and the erased-users registry keeps a salted hash of the id with `ts`, so a replay of older
 * A/B/C/H never brings the user back (docs/erasure.md).
 */
export const userErasureSchema = z.object({
  type: z.literal('user_erasure'),
  /** The erasure id the API answered with (`erasure-<uuid>`, or derived from an Idempotency-Key). */
  event_id: idSchema,
  schema_version: z.literal(1),
  /** When it was requested: data of the user with an event time at or before it is removed. */
  ts: isoUtc,
  user_id: idSchema,
  /** The API key name that asked, or `open` when the API runs without keys. */
  requested_by: z.string().min(1).max(200),
  reason: z.string().max(500).optional(),
});
export type UserErasure = z.infer<typeof userErasureSchema>;
