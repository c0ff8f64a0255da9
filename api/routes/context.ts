import { randomUUID } from 'node:crypto';
import { publicErrorKind } from '../../common/error-kind.ts';
import type { ParaphraseEvent, SelectionEvent } from '../../schemas/index.ts';
import type { ApiDeps } from '../app.ts';
import { ApiError, UpstreamError } from '../errors.ts';
import { type RouteSessions, resolveSessions } from '../sessions/index.ts';
import type { SessionInfo } from '../sessions/session-registry.ts';

/** What the route sub-apps of one API instance share: its dependencies and the session registry. */
export interface RouteContext {
  readonly deps: ApiDeps;
  readonly newId: () => string;
  /** The event time of an event emitted now. */
  now(): string;
  readonly sessions: RouteSessions;
  /**
   * The session a `/paraphrase` or `/select` names, if it is this user's: 404 `unknown_session`
   * for an id no `/recommend` opened (or that expired), 403 `session_user_mismatch` for another
   * user's, 503 when the registry cannot be read. Checked before anything is emitted.
   */
  ownSession(sessionId: string, userId: string): Promise<SessionInfo>;
  /** A session registry call whose failure is counted and answered 503 `session_registry_unavailable`. */
  registryCall<T>(call: Promise<T>): Promise<T>;
  /**
   * Counts a failed store call that fails the request, and the retriable 503 that answers it
   * (named after the store in the server's log).
   */
  storeUnavailable(store: string, code: string, message: string, err: unknown): UpstreamError;
  /** Counts a failed store call and says why in the (degraded) answer's reasons. */
  storeError(store: string, err: unknown, reasons: string[]): void;
  /** Emits B or C; a 503 the editor retries when the event log does not take it. */
  emitOrFail(e: ParaphraseEvent | SelectionEvent): Promise<void>;
}

export function createRouteContext(deps: ApiDeps): RouteContext {
  const m = deps.metrics;
  const sessions = resolveSessions(deps.sessions, deps.clock);
  const storeUnavailable = (store: string, code: string, message: string, err: unknown) => {
    m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store });
    return new UpstreamError(code, message, store, err, 503);
  };
  const registryCall = <T>(call: Promise<T>): Promise<T> =>
    call.catch((err) => {
      throw storeUnavailable(
        'sessions',
        'session_registry_unavailable',
        'the session registry is unreachable',
        err,
      );
    });
  return {
    deps,
    newId: deps.newId ?? randomUUID,
    now: () => new Date(deps.clock()).toISOString(),
    sessions,
    registryCall,
    async ownSession(sessionId, userId) {
      const s = await registryCall(sessions.registry.get(sessionId));
      if (!s) {
        m.inc('sentencify_session_refusals_total', 'Writes refused for their session', { reason: 'unknown' });
        throw new ApiError(
          'unknown_session',
          'no such recommend_session_id: call /recommend first and use the id it answers (sessions expire)',
          { status: 404 },
        );
      }
      if (s.user_id !== userId) {
        m.inc('sentencify_session_refusals_total', 'Writes refused for their session', { reason: 'foreign' });
        throw new ApiError('session_user_mismatch', 'recommend_session_id belongs to another user_id', {
          status: 403,
        });
      }
      return s;
    },
    storeUnavailable,
    storeError(store, err, reasons) {
      m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store });
      deps.onUpstreamError?.(store, err);
      reasons.push(`${store} unavailable: ${publicErrorKind(err)}`);
    },
    async emitOrFail(e) {
      try {
        await deps.events.emit(e);
        m.inc('sentencify_events_emitted_total', 'Events emitted to the log', { type: e.type });
      } catch (err) {
        m.inc('sentencify_event_emit_errors_total', 'Events that could not be emitted', { type: e.type });
        throw new UpstreamError(
          'event_log_unavailable',
          `could not record the ${e.type} event; retry`,
          'events',
          err,
          503,
        );
      }
    },
  };
}
