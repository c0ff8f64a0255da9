import { createHash, randomBytes } from 'node:crypto';
import { uuidV5 } from '../vector/point-id.ts';

/**
 * A server-issued recommend session id: `rs_` and 128 random bits (base64url, 22 characters).
 * Random rather than HMAC-signed: an id must be looked up in the session registry anyway (who owns
 * it, whether it was selected), so a signature would prove nothing the registry does not, and
 * random ids need no secret to configure, keep and rotate across API processes.
 *
 * @example
 * newSessionId(); // 'rs_3q2-7wX0bR9kTn1sVf8e5A'
 */
export function newSessionId(): string {
  return `rs_${randomBytes(16).toString('base64url')}`;
}

/**
 * Namespace of idempotent event ids: the UUID v5 of `https://sentencify.dev/api/idempotency` in the
 * RFC 4122 URL namespace, written out so every API process derives the same id from the same key.
 */
export const IDEMPOTENCY_NAMESPACE = '865c50ed-0385-521a-aae3-484b45e292c4';

/**
 * The event id of an idempotent write: UUID v5 of route, user and `Idempotency-Key`, so a retry —
 * on any API process — emits (if it emits at all) an event with the same id, which the join and
 * the archive drop as a duplicate. Scoped by user and route: two users (or `/paraphrase` and
 * `/select`) using the same key do not collide.
 *
 * @example
 * idempotentEventId('/select', 'u1', 'key-1') === idempotentEventId('/select', 'u1', 'key-1'); // true
 */
export function idempotentEventId(route: string, userId: string, key: string): string {
  return uuidV5(`${route}\n${userId}\n${key}`, IDEMPOTENCY_NAMESPACE);
}

/** The fingerprint of a request body: SHA-256 of its canonical JSON (keys sorted), so key order does not matter. */
export function bodyFingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
