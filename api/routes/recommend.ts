import { Hono } from 'hono';
import { publicErrorKind } from '../../common/error-kind.ts';
import { ApiError } from '../errors.ts';
import { securedJsonText } from '../http/secure-headers.ts';
import { createRecommendSources, recommendInputs, scoreRecommendation } from '../recommend-core.ts';
import { buildRecommendEvent, jsonWithField, optionsJson } from '../recommend-event.ts';
import { parseBody } from '../request-body.ts';
import { detectLanguage, type RecommendResponse, recommendRequestSchema } from '../schemas.ts';
import { explorationDraw, SCORER_VERSION } from '../scoring/index.ts';
import { decodeAsOf, type ProfileWants, readProfileWhen } from '../sessions/read-your-writes.ts';
import type { NewSession } from '../sessions/session-registry.ts';
import type { RouteContext } from './context.ts';

/**
 * POST /recommend: opens a session (server-issued id, or the client's if it was never used),
 * ranks the options for a sentence from the views (G, J, the vector index, the document's
 * history) and emits A. A store that fails makes the answer `degraded`, never a 5xx — except that
 * a client-chosen id that cannot be checked against the session registry is refused with a 503.
 * With `min_profile_version` or `as_of` it first waits, up to a bound, for the user's profile to
 * catch up (read-your-writes).
 */
export function recommendRoutes(ctx: RouteContext) {
  const { deps, newId, sessions, storeError, storeUnavailable } = ctx;
  const { registry } = sessions;
  const m = deps.metrics;
  const sources = createRecommendSources(deps);

  /** A session under the client's id, if no session ever had it: 409 otherwise, 503 if unknowable. */
  const openClientSession = async (id: string, s: NewSession): Promise<void> => {
    let opened: boolean;
    try {
      opened = await registry.open(id, s);
    } catch (err) {
      throw storeUnavailable(
        'sessions',
        'session_registry_unavailable',
        'cannot check that recommend_session_id is new; retry, or let the server issue the id',
        err,
      );
    }
    if (!opened) {
      m.inc('sentencify_session_refusals_total', 'Writes refused for their session', { reason: 'exists' });
      throw new ApiError(
        'session_exists',
        'recommend_session_id is already taken; omit it to get a new one',
        {
          status: 409,
        },
      );
    }
  };
  /** A server-issued session; registry down → the answer is degraded and says what that means. */
  const openServerSession = async (s: NewSession, reasons: string[]): Promise<string> => {
    try {
      // 128 random bits do not collide; the loop is for a broken generator, not for luck.
      for (let attempt = 0; attempt < 3; attempt++) {
        const id = sessions.newSessionId();
        if (await registry.open(id, s)) return id;
      }
      throw new Error('three issued session ids were all taken');
    } catch (err) {
      storeError('sessions', err, reasons);
      reasons.push('this session is not registered: /paraphrase and /select on it will be refused');
      return sessions.newSessionId();
    }
  };

  return new Hono().post('/recommend', async (c) => {
    const body = await parseBody(c.req.raw, recommendRequestSchema);
    const language = body.language ?? detectLanguage(body.text);
    const reasons: string[] = [];
    const wants: ProfileWants = {
      minVersion: body.min_profile_version,
      asOf: body.as_of === undefined ? undefined : (decodeAsOf(body.as_of) ?? undefined),
    };
    if (body.as_of !== undefined && !wants.asOf) {
      // 422, not 400: the body matches the schema; the token is one this server did not issue.
      throw new ApiError('invalid_as_of', 'as_of: not a token /select answered', {
        status: 422,
        details: [{ path: 'as_of', message: 'not a token /select answered' }],
      });
    }
    const ryw = body.min_profile_version !== undefined || wants.asOf !== undefined;
    const newSession: NewSession = { user_id: body.user_id, language, doc_id: body.doc_id ?? null };
    // Before anything is read or emitted: a taken id gets its 409 and leaves no trace.
    if (body.recommend_session_id !== undefined)
      await openClientSession(body.recommend_session_id, newSession);
    const sessionIdP =
      body.recommend_session_id !== undefined
        ? Promise.resolve(body.recommend_session_id)
        : openServerSession(newSession, reasons);
    let rywOutcome: { waitedMs: number; satisfied: boolean } = { waitedMs: 0, satisfied: false };
    const inputs = await recommendInputs(sources, {
      userId: body.user_id,
      text: body.text,
      language,
      docId: body.doc_id,
      ...(ryw
        ? {
            readProfile: () =>
              readProfileWhen(() => sources.readUser(body.user_id), wants, sessions.readYourWrites).then(
                (r) => {
                  rywOutcome = r;
                  return r.profile;
                },
              ),
          }
        : {}),
    });
    for (const f of inputs.failures) storeError(f.store, f.error, reasons);
    const { profile, neighbours, history } = inputs;

    const sessionId = await sessionIdP;
    const { result, cluster } = scoreRecommendation(sources, inputs, {
      language,
      docField: body.doc_field ?? null,
      draw: explorationDraw(sessionId),
    });
    const { variant } = deps.router.paraphraserFor(body.user_id);
    // The options shown: A logs exactly those (a re-score compares the ones logged).
    const shown = body.limit === undefined ? result.options : result.options.slice(0, body.limit);
    const a = buildRecommendEvent({
      eventId: newId(),
      at: deps.clock(),
      sessionId,
      request: body,
      language,
      result: { ...result, options: shown },
      variant,
      neighbours,
      docHistory: history,
      clusterId: cluster?.cluster_id ?? null,
    });
    try {
      await deps.events.emit(a);
      m.inc('sentencify_events_emitted_total', 'Events emitted to the log', { type: 'recommend' });
    } catch (err) {
      // The answer is still right; only its log line is missing, and that is reported.
      m.inc('sentencify_event_emit_errors_total', 'Events that could not be emitted', { type: 'recommend' });
      deps.onUpstreamError?.('events', err);
      reasons.push(`event log unavailable: ${publicErrorKind(err)}`);
    }
    const response: RecommendResponse = {
      recommend_session_id: sessionId,
      options: shown,
      profile_version: result.profile_version,
      model_version: SCORER_VERSION,
      variant,
      explored: result.explored,
      cold_start: (profile?.sessions ?? 0) === 0,
      cluster_id: cluster?.cluster_id ?? null,
      embedder: { model: deps.embedder.model, offline: deps.embedder.offline },
      vector_index: deps.index.backend,
      ...(reasons.length > 0 ? { degraded: true, degraded_reasons: reasons } : {}),
      ...(ryw
        ? { read_your_writes: { waited_ms: rywOutcome.waitedMs, satisfied: rywOutcome.satisfied } }
        : {}),
    };
    // The options' JSON is A's too: written once for both (eventJson in the event sinks).
    return securedJsonText(jsonWithField(response, 'options', optionsJson(shown)));
  });
}
