import { createHash, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { idSchema, SCHEMA_VERSION, type UserErasure } from '../../schemas/index.ts';
import type { EventLog } from '../../streams/log/event-log.ts';
import type { ApiKeyVariables } from '../auth/middleware.ts';
import { ApiError, UpstreamError } from '../errors.ts';
import { pathText } from '../request-body.ts';
import type { RouteContext } from './context.ts';

/** Where `DELETE /users/:id` puts the request: the erasure topic (Kafka, or the embedded log). */
export interface ErasurePublisher {
  publish(e: UserErasure): Promise<void>;
}

/**
 * Erasure requests on the event log, keyed by user_id.
 *
 * @example
 * const erasures = createLogErasurePublisher(kafka, topics.erasure);
 */
export function createLogErasurePublisher(log: EventLog, topic: string): ErasurePublisher {
  return {
    publish: (e) => log.send(topic, [{ key: e.user_id, value: Buffer.from(JSON.stringify(e)) }]),
  };
}

/**
 * The erasure id: derived from the Idempotency-Key when there is one (a retried request publishes
 * the same id, and the erasure role applies it once more harmlessly, its audit keeping the first
 * counts), a fresh one otherwise. Erasing is idempotent either way: a second request removes nothing.
 */
export function erasureId(userId: string, idempotencyKey: string | undefined): string {
  if (!idempotencyKey) return `erasure-${randomUUID()}`;
  const h = createHash('sha256').update(`${idempotencyKey}\u0000${userId}`).digest('hex');
  return `erasure-${h.slice(0, 32)}`;
}

/**
 * `DELETE /users/:id` (admin scope, by the auth table): publishes a `user_erasure` on the erasure
 * topic and answers 202 with the erasure id. The stream's erasure role then removes the user from
 * every store and writes the audit record (docs/erasure.md).
 */
export function usersRoutes(ctx: RouteContext, erasures: ErasurePublisher | undefined) {
  return new Hono<{ Variables: ApiKeyVariables }>().delete('/users/:id', async (c) => {
    const parsed = idSchema.safeParse(pathText(c.req.param('id'), 'id'));
    if (!parsed.success)
      throw new ApiError('invalid_user_id', 'a user id is 1 to 200 characters', { status: 400 });
    if (!erasures)
      throw new ApiError('erasure_unavailable', 'this API instance has no erasure topic configured', {
        status: 503,
        retriable: false,
      });
    const userId = parsed.data;
    // The same rule as /paraphrase and /select: a blank or non-ASCII key is refused, not ignored.
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
      throw new ApiError('invalid_idempotency_key', 'Idempotency-Key: 1 to 255 printable ASCII characters', {
        status: 400,
      });
    const reason = c.req.query('reason');
    const event: UserErasure = {
      type: 'user_erasure',
      event_id: erasureId(userId, key),
      schema_version: SCHEMA_VERSION,
      ts: ctx.now(),
      user_id: userId,
      requested_by: c.get('apiKey')?.name ?? 'open',
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
    };
    try {
      await erasures.publish(event);
    } catch (err) {
      throw new UpstreamError(
        'event_log_unavailable',
        'could not record the erasure request; retry',
        'events',
        err,
        503,
      );
    }
    // The API's own stores of the user (session owners, stored answers holding their text) are
    // the API's to erase: the stream's erasure role does not know them. Expiring anyway (TTL), so
    // a failure here is counted, not fatal.
    await Promise.all([
      ctx.sessions.registry.eraseUser(userId),
      ctx.sessions.idempotency.eraseUser(userId),
    ]).catch((err) => ctx.storeError('sessions', err, []));
    ctx.deps.metrics.inc('sentencify_erasure_requests_total', 'DELETE /users/:id requests accepted');
    return c.json(
      {
        erasure_id: event.event_id,
        status: 'accepted',
        requested_at: event.ts,
        requested_by: event.requested_by,
      },
      202,
    );
  });
}
