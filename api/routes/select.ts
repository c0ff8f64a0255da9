import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { SCHEMA_VERSION, type SelectionEvent } from '../../schemas/index.ts';
import { ApiError } from '../errors.ts';
import { parseBody } from '../request-body.ts';
import { type SelectResponse, selectRequestSchema } from '../schemas.ts';
import { runIdempotent } from '../sessions/idempotency.ts';
import { encodeAsOf } from '../sessions/read-your-writes.ts';
import type { RouteContext } from './context.ts';

/**
 * POST /select: records the user's final choice (C), once per session. Only on a session of this
 * user's (404 / 403 otherwise); a second selection is 409 `already_selected` (a retry with the
 * same `Idempotency-Key` gets the first answer instead, also when that answer was never stored);
 * a `chosen_index` before any paraphrase recorded its candidates is 409 `paraphrase_in_progress`
 * (retriable), and so is a selection while a paraphrase's B is still being emitted after a wait of
 * up to 1 s; nothing is emitted when refused. A 503
 * when C cannot be recorded, so the editor retries. Answers an `as_of` token for read-your-writes.
 */
/** How long `/select` waits for a paraphrase's B being emitted (40 × 25 ms = 1 s) before a 409. */
const BUSY_RETRIES = 40;
const BUSY_WAIT_MS = 25;

export function selectRoutes(ctx: RouteContext) {
  const { sessions } = ctx;
  const m = ctx.deps.metrics;

  return new Hono().post('/select', async (c) => {
    const body = await parseBody(c.req.raw, selectRequestSchema);
    let replayedSelection = false;
    const { answer, replayed } = await runIdempotent(
      {
        store: sessions.idempotency,
        key: c.req.header('idempotency-key'),
        route: '/select',
        userId: body.user_id,
        body,
        newId: ctx.newId,
      },
      async (eventId) => {
        const session = await ctx.ownSession(body.recommend_session_id, body.user_id);
        // A chosen_index points into a paraphrase's candidates: before any paraphrase recorded its
        // count (one may still be waiting on the LLM) there is nothing to check it against, so it
        // is refused, retriable, rather than taken unchecked. A null index (own text) is taken,
        // and a paraphrase still in flight then finds the selection and emits nothing. (A session
        // already selected goes on to its 409 already_selected, or to its replay, below.)
        if (session.candidates === null && body.chosen_index !== null && !session.selection) {
          m.inc('sentencify_session_refusals_total', 'Writes refused for their session', {
            reason: 'no_candidates',
          });
          throw new ApiError(
            'paraphrase_in_progress',
            'chosen_index needs the candidates of a /paraphrase of this session, and none is recorded yet',
            { status: 409, retriable: true },
          );
        }
        if (
          session.candidates !== null &&
          body.chosen_index !== null &&
          body.chosen_index >= session.candidates
        ) {
          throw new ApiError(
            'invalid_request',
            `chosen_index: ${body.chosen_index} is out of range; the paraphrase had ${session.candidates} candidates`,
            { status: 400, details: [{ path: 'chosen_index', message: 'out of range' }] },
          );
        }
        const ts = ctx.now();
        // Claimed before C is emitted, so two selections racing on two API processes cannot both
        // emit; given back if C cannot be recorded, so the retry is not refused as a second one.
        const claim = () =>
          ctx.registryCall(
            sessions.registry.claimSelection(body.recommend_session_id, { event_id: eventId, ts }),
          );
        // 'busy': a paraphrase of this session is emitting its B this instant; its B must reach the
        // log before this C, so wait for it (a few ms as a rule), then claim.
        let prior = await claim();
        for (let i = 0; prior === 'busy' && i < BUSY_RETRIES; i++) {
          await sleep(BUSY_WAIT_MS);
          prior = await claim();
        }
        if (prior === 'busy') {
          m.inc('sentencify_session_refusals_total', 'Writes refused for their session', {
            reason: 'paraphrase_emitting',
          });
          throw new ApiError(
            'paraphrase_in_progress',
            'a paraphrase of this session is being recorded; retry in a moment',
            { status: 409, retriable: true, headers: { 'retry-after': '1' } },
          );
        }
        if (prior && prior.event_id === eventId) {
          // This request's own selection (same Idempotency-Key), whose first answer was never
          // stored: its C is on the log already, so the retry gets the answer it missed.
          replayedSelection = true;
          const response: SelectResponse = {
            ok: true,
            event_id: eventId,
            recommend_session_id: body.recommend_session_id,
            as_of: encodeAsOf({ session: body.recommend_session_id, ts: prior.ts }),
          };
          return { status: 200, body: response };
        }
        if (prior) {
          m.inc('sentencify_session_refusals_total', 'Writes refused for their session', {
            reason: 'selected',
          });
          throw new ApiError(
            'already_selected',
            `this session already has its selection (event ${prior.event_id}); a new rewrite needs a new /recommend`,
            { status: 409 },
          );
        }
        const ev: SelectionEvent = {
          type: 'selection',
          event_id: eventId,
          schema_version: SCHEMA_VERSION,
          ts,
          user_id: body.user_id,
          recommend_session_id: body.recommend_session_id,
          chosen_index: body.chosen_index,
          final_text: body.final_text,
          edited: body.edited ?? false,
        };
        try {
          await ctx.emitOrFail(ev);
        } catch (err) {
          await sessions.registry.releaseSelection(body.recommend_session_id, eventId).catch(() => undefined);
          throw err;
        }
        const response: SelectResponse = {
          ok: true,
          event_id: ev.event_id,
          recommend_session_id: body.recommend_session_id,
          as_of: encodeAsOf({ session: body.recommend_session_id, ts }),
        };
        return { status: 200, body: response };
      },
    );
    if (replayed || replayedSelection) c.header('Idempotent-Replayed', 'true');
    return c.json(answer.body as SelectResponse, 200);
  });
}
