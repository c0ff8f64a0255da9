import { randomUUID } from 'node:crypto';
import type { ParaphraseEvent, SelectionEvent } from '../../schemas/index.ts';
import type { ApiDeps } from '../app.ts';
import { UpstreamError } from '../errors.ts';

/** What an instance remembers of recent sessions, to check /paraphrase and /select against. */
interface SessionMemo {
  user: string;
  language: string;
  docId: string | null;
  candidates: number | null;
}

class Lru<K, V> {
  private readonly m = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    return this.m.get(k);
  }
  set(k: K, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as K);
  }
}

/** What the route sub-apps of one API instance share: its dependencies and its session memo. */
export interface RouteContext {
  readonly deps: ApiDeps;
  readonly newId: () => string;
  /** The event time of an event emitted now. */
  now(): string;
  readonly sessions: Lru<string, SessionMemo>;
  /** Counts a failed store call and says why in the (degraded) answer's reasons. */
  storeError(store: string, err: unknown, reasons: string[]): void;
  /** Emits B or C; a 503 the editor retries when the event log does not take it. */
  emitOrFail(e: ParaphraseEvent | SelectionEvent): Promise<void>;
}

export function createRouteContext(deps: ApiDeps): RouteContext {
  const m = deps.metrics;
  return {
    deps,
    newId: deps.newId ?? randomUUID,
    now: () => new Date(deps.clock()).toISOString(),
    sessions: new Lru<string, SessionMemo>(100_000),
    storeError(store, err, reasons) {
      m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store });
      reasons.push(`${store} unavailable: ${(err as Error).message}`);
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
          err,
          503,
        );
      }
    },
  };
}
