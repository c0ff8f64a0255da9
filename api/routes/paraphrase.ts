import { Hono } from 'hono';
import {
  optionKey,
  type ParaphraseEvent,
  type ParaphraseRequest,
  SCHEMA_VERSION,
} from '../../schemas/index.ts';
import { ApiError, UpstreamError } from '../errors.ts';
import { parseBody } from '../request-body.ts';
import { detectLanguage, type ParaphraseResponse, paraphraseRequestBodySchema } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/**
 * POST /paraphrase: runs the user's A/B variant's paraphraser on an option or a free style request
 * and emits B; a 503 when B cannot be recorded, so the editor retries.
 */
export function paraphraseRoutes(ctx: RouteContext) {
  const { deps, sessions, storeError } = ctx;
  const m = deps.metrics;

  return new Hono().post('/paraphrase', async (c) => {
    const body = await parseBody(c.req.raw, paraphraseRequestBodySchema);
    const memo = sessions.get(body.recommend_session_id);
    if (memo && memo.user !== body.user_id) {
      throw new ApiError('session_user_mismatch', `recommend_session_id belongs to another user_id`, {
        status: 409,
      });
    }
    const language = body.language ?? memo?.language ?? detectLanguage(body.text);
    const request: ParaphraseRequest =
      body.style_request !== undefined
        ? { style_request: body.style_request }
        : { category: body.category!, intensity: body.intensity! };
    if ('category' in request && !deps.vocabulary.categories.includes(request.category)) {
      throw new ApiError(
        'invalid_request',
        `category: "${request.category}" is not one of ${deps.vocabulary.categories.join(', ')}`,
        {
          status: 400,
          details: [{ path: 'category', message: 'unknown category' }],
        },
      );
    }
    const { variant, paraphraser } = deps.router.paraphraserFor(body.user_id);
    const t0 = performance.now();
    let out: Awaited<ReturnType<typeof paraphraser.paraphrase>>;
    const llmLabels = { variant, provider: paraphraser.provider, model: paraphraser.model };
    try {
      out = await paraphraser.paraphrase({ text: body.text, language, request, n: body.n });
      m.inc('sentencify_llm_calls_total', 'LLM paraphrase calls', { ...llmLabels, outcome: 'ok' });
    } catch (err) {
      m.inc('sentencify_llm_calls_total', 'LLM paraphrase calls', { ...llmLabels, outcome: 'error' });
      throw err instanceof ApiError ? err : new UpstreamError('llm_failed', (err as Error).message, err);
    } finally {
      m.observe('sentencify_llm_latency_ms', 'LLM paraphrase latency', performance.now() - t0, { variant });
    }
    m.inc('sentencify_llm_tokens_total', 'LLM tokens', { variant, kind: 'prompt' }, out.promptTokens);
    m.inc('sentencify_llm_tokens_total', 'LLM tokens', { variant, kind: 'completion' }, out.completionTokens);
    const b: ParaphraseEvent = {
      type: 'paraphrase',
      event_id: ctx.newId(),
      schema_version: SCHEMA_VERSION,
      ts: ctx.now(),
      user_id: body.user_id,
      recommend_session_id: body.recommend_session_id,
      request,
      candidates: out.candidates,
      llm: {
        provider: out.provider,
        model: out.model,
        variant,
        prompt_tokens: out.promptTokens,
        completion_tokens: out.completionTokens,
        latency_ms: Math.round(out.latencyMs * 1000) / 1000,
      },
    };
    await ctx.emitOrFail(b);
    const docId = body.doc_id ?? memo?.docId ?? null;
    if (docId && 'category' in request) {
      await deps.docs
        .recordChoice(docId, body.recommend_session_id, optionKey(request))
        .catch((err) => storeError('documents', err, []));
    }
    sessions.set(body.recommend_session_id, {
      user: body.user_id,
      language,
      docId,
      candidates: out.candidates.length,
    });
    const response: ParaphraseResponse = {
      recommend_session_id: body.recommend_session_id,
      candidates: out.candidates,
      provider: out.provider,
      model: out.model,
      variant,
      offline: out.provider === 'offline',
    };
    return c.json(response);
  });
}
