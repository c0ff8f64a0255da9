import { z } from 'zod';

/** ISO-8601 UTC timestamp with a trailing Z, e.g. 2026-11-23T09:15:00.000Z. */
export const isoUtc = z.iso.datetime({
  offset: false,
  message: 'an ISO-8601 UTC time such as 2026-11-23T09:15:00Z',
});

export const idSchema = z.string().min(1).max(200);

export const languageSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a BCP-47 language tag such as "ko" or "en"');

/** Fields every event carries (DESIGN §2). */
export const envelope = {
  event_id: idSchema,
  schema_version: z.literal(1),
  ts: isoUtc,
  user_id: idSchema,
};

export const SCHEMA_VERSION = 1 as const;

/** Milliseconds since the epoch of an ISO timestamp that already passed validation. */
export function tsMs(ts: string): number {
  return Date.parse(ts);
}
