import { ApiError, UpstreamError } from '../errors.ts';
import type { IdempotencyStore, StoredAnswer } from './idempotency-store.ts';
import { bodyFingerprint, idempotentEventId } from './session-id.ts';

/** Printable ASCII, as the IETF draft's examples (UUIDs, random strings); long enough for any of them. */
const KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentRequest {
  readonly store: IdempotencyStore;
  /** The `Idempotency-Key` header, if any. */
  readonly key: string | undefined;
  readonly route: '/paraphrase' | '/select';
  readonly userId: string;
  /** The parsed body: a retry must send the same one. */
  readonly body: unknown;
  /** Event ids of requests without a key. */
  readonly newId: () => string;
}

/**
 * Runs a write once per `Idempotency-Key`. Without a key it just runs (with a fresh event id).
 * With one, the event id is derived from (route, user, key); the key is claimed first, so of
 * concurrent retries one runs and the others get 409 `idempotency_in_progress` (retriable); once
 * the first answer is stored, a retry with the same body gets it back (`replayed`), one with
 * another body 422 `idempotency_key_reused`. Only a successful answer is stored: a request that
 * failed (a 4xx, or a 503 because the event log did not take the event) frees its key, so the
 * retry runs again — with the same event id, so an event that did reach the log is a duplicate the
 * join and the archive drop.
 *
 * @example
 * const { answer, replayed } = await runIdempotent({ store, key, route: '/select', userId, body, newId },
 *   async (eventId) => ({ status: 200, body: await select(eventId) }));
 */
export async function runIdempotent(
  r: IdempotentRequest,
  run: (eventId: string) => Promise<StoredAnswer>,
): Promise<{ answer: StoredAnswer; replayed: boolean }> {
  if (r.key === undefined) return { answer: await run(r.newId()), replayed: false };
  if (!KEY.test(r.key)) {
    throw new ApiError('invalid_idempotency_key', 'Idempotency-Key: 1 to 255 printable ASCII characters', {
      status: 400,
    });
  }
  const eventId = idempotentEventId(r.route, r.userId, r.key);
  const fingerprint = bodyFingerprint(r.body);
  let existing: Awaited<ReturnType<IdempotencyStore['begin']>>;
  try {
    existing = await r.store.begin(eventId, fingerprint, r.userId);
  } catch (err) {
    throw new UpstreamError(
      'idempotency_store_unavailable',
      'the idempotency store is unreachable',
      'idempotency',
      err,
      503,
    );
  }
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw new ApiError(
        'idempotency_key_reused',
        'this Idempotency-Key was used with a different request body; use a new key for a new request',
        { status: 422 },
      );
    }
    if (!existing.answer) {
      throw new ApiError('idempotency_in_progress', 'a request with this Idempotency-Key is still running', {
        status: 409,
        retriable: true,
      });
    }
    return { answer: existing.answer, replayed: true };
  }
  let answer: StoredAnswer;
  try {
    answer = await run(eventId);
  } catch (err) {
    await r.store.release(eventId).catch(() => undefined);
    throw err;
  }
  // If the answer cannot be stored, the claim expires by itself and a retry runs again (same event id).
  await r.store.complete(eventId, fingerprint, answer, r.userId).catch(() => undefined);
  return { answer, replayed: false };
}
