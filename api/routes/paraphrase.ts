import { Hono } from 'hono';
import { z } from 'zod';
import { publicErrorKind } from '../../common/error-kind.ts';
import {
  optionKey,
  type ParaphraseEvent,
  type ParaphraseRequest,
  SCHEMA_VERSION,
} from '../../schemas/index.ts';
import { ApiError, UpstreamError } from '../errors.ts';
import { parseBody } from '../request-body.ts';
import { type ParaphraseResponse, paraphraseBodyIssues, paraphraseRequestBodySchema } from '../schemas.ts';
import { runIdempotent } from '../sessions/idempotency.ts';
import type { RouteContext } from './context.ts';

/** A body that is neither form: a 400 naming the field of the form it was aiming at. */
function invalidParaphrase(raw: unknown): ApiError {
  const issues = paraphraseBodyIssues(raw);
  const first = issues[0] ?? { path: '(body)', message: 'not a paraphrase request' };
  return new ApiError('invalid_request', `${first.path}: ${first.message}`, { status: 400, details: issues });
}

/**
 * POST /paraphrase: runs the user's A/B variant's paraphraser on an option or a free style request
 * and emits B. Only on a session of this user's that has no selection yet (404 / 403 / 409
 * otherwise, and nothing is emitted; checked again after the LLM call, so a /select that landed
 * meanwhile makes it a 409 too); idempotent with an `Idempotency-Key`; a 503 when B cannot be
 * recorded, so the editor retries.
 */
/**
 * How long a paraphrase's emit may hold its session's selections back at most: longer than the
 * event sink's send timeout (2 s by default), so only a process that died mid-emit lapses.
 */
const EMIT_HOLD_MS = 5_000;

export function paraphraseRoutes(ctx: RouteContext) {
  const { deps, sessions, storeError } = ctx;
  const m = deps.metrics;

  const alreadySelected = () => {
    m.inc('sentencify_session_refusals_total', 'Writes refused for their session', { reason: 'selected' });
    return new ApiError(
      'already_selected',
      'this session already has its selection; a new rewrite needs a new /recommend',
      { status: 409 },
    );
  };

  return new Hono().post('/paraphrase', async (c) => {
    // Parsed as JSON by the shared reader (its errors, limits and normalisation), then as one of the two forms.
    const raw = await parseBody(c.req.raw, z.unknown());
    const parsed = paraphraseRequestBodySchema.safeParse(raw);
    if (!parsed.success) throw invalidParaphrase(raw);
    const body = parsed.data;
    const request: ParaphraseRequest =
      'style_request' in body
        ? { style_request: body.style_request }
        : { category: body.category, intensity: body.intensity };
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
    const { answer, replayed } = await runIdempotent(
      {
        store: sessions.idempotency,
        key: c.req.header('idempotency-key'),
        route: '/paraphrase',
        userId: body.user_id,
        body,
        newId: ctx.newId,
      },
      async (eventId) => {
        const session = await ctx.ownSession(body.recommend_session_id, body.user_id);
        if (session.selection) throw alreadySelected();
        const language = body.language ?? session.language;
        const { variant, paraphraser } = deps.router.paraphraserFor(body.user_id);
        const t0 = performance.now();
        let out: Awaited<ReturnType<typeof paraphraser.paraphrase>>;
        const llmLabels = { variant, provider: paraphraser.provider, model: paraphraser.model };
        try {
          out = await paraphraser.paraphrase({ text: body.text, language, request, n: body.n });
          m.inc('sentencify_llm_calls_total', 'LLM paraphrase calls', { ...llmLabels, outcome: 'ok' });
        } catch (err) {
          m.inc('sentencify_llm_calls_total', 'LLM paraphrase calls', { ...llmLabels, outcome: 'error' });
          throw err instanceof ApiError
            ? err
            : new UpstreamError('llm_failed', `the paraphraser failed: ${publicErrorKind(err)}`, 'llm', err);
        } finally {
          m.observe('sentencify_llm_latency_ms', 'LLM paraphrase latency', performance.now() - t0, {
            variant,
          });
        }
        m.inc('sentencify_llm_tokens_total', 'LLM tokens', { variant, kind: 'prompt' }, out.promptTokens);
        m.inc(
          'sentencify_llm_tokens_total',
          'LLM tokens',
          { variant, kind: 'completion' },
          out.completionTokens,
        );
        const b: ParaphraseEvent = {
          type: 'paraphrase',
          event_id: eventId,
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
        // Checked again: the LLM call takes up to LLM_TIMEOUT_MS, and a /select may have landed
        // meanwhile; a B after its session's C would be a rewrite nobody chose from. The check also
        // holds selections back until this B is on the log (a /select meanwhile waits for it).
        const selected = await ctx.registryCall(
          sessions.registry.beginParaphraseEmit(body.recommend_session_id, b.event_id, EMIT_HOLD_MS),
        );
        if (selected) throw alreadySelected();
        try {
          await ctx.emitOrFail(b);
        } finally {
          await sessions.registry
            .endParaphraseEmit(body.recommend_session_id, b.event_id)
            .catch(() => undefined);
        }
        const docId = body.doc_id ?? session.doc_id;
        if (docId && 'category' in request) {
          await deps.docs
            .recordChoice(docId, body.recommend_session_id, optionKey(request), body.user_id)
            .catch((err) => storeError('documents', err, []));
        }
        // What /select checks chosen_index against; B is recorded either way.
        await sessions.registry
          .setCandidates(body.recommend_session_id, out.candidates.length)
          .catch((err) => storeError('sessions', err, []));
        const response: ParaphraseResponse = {
          recommend_session_id: body.recommend_session_id,
          candidates: out.candidates,
          provider: out.provider,
          model: out.model,
          variant,
          offline: out.provider === 'offline',
        };
        return { status: 200, body: response };
      },
    );
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(answer.body as ParaphraseResponse, 200);
  });
}
