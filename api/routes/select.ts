import { Hono } from 'hono';
import { SCHEMA_VERSION, type SelectionEvent } from '../../schemas/index.ts';
import { ApiError } from '../errors.ts';
import { parseBody } from '../request-body.ts';
import { type SelectResponse, selectRequestSchema } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** POST /select: records the user's final choice (C); a 503 when C cannot be recorded. */
export function selectRoutes(ctx: RouteContext) {
  const { sessions } = ctx;

  return new Hono().post('/select', async (c) => {
    const body = await parseBody(c.req.raw, selectRequestSchema);
    const memo = sessions.get(body.recommend_session_id);
    if (memo && memo.user !== body.user_id) {
      throw new ApiError('session_user_mismatch', 'recommend_session_id belongs to another user_id', {
        status: 409,
      });
    }
    if (memo?.candidates != null && body.chosen_index !== null && body.chosen_index >= memo.candidates) {
      throw new ApiError(
        'invalid_request',
        `chosen_index: ${body.chosen_index} is out of range; the paraphrase had ${memo.candidates} candidates`,
        { status: 400, details: [{ path: 'chosen_index', message: 'out of range' }] },
      );
    }
    const ev: SelectionEvent = {
      type: 'selection',
      event_id: ctx.newId(),
      schema_version: SCHEMA_VERSION,
      ts: ctx.now(),
      user_id: body.user_id,
      recommend_session_id: body.recommend_session_id,
      chosen_index: body.chosen_index,
      final_text: body.final_text,
      edited: body.edited ?? false,
    };
    await ctx.emitOrFail(ev);
    const response: SelectResponse = {
      ok: true,
      event_id: ev.event_id,
      recommend_session_id: body.recommend_session_id,
    };
    return c.json(response);
  });
}
