import { createMemoryIdempotencyStore, type IdempotencyStore } from './idempotency-store.ts';
import { DEFAULT_READ_YOUR_WRITES, type ReadYourWritesOptions } from './read-your-writes.ts';
import { newSessionId } from './session-id.ts';
import { createMemorySessionRegistry, type SessionRegistry } from './session-registry.ts';

/** What the API needs for owned sessions, idempotent writes and read-your-writes (`ApiDeps.sessions`). */
export interface ApiSessions {
  /** Shared by every API process in production (Redis); the in-memory twin otherwise. */
  readonly registry: SessionRegistry;
  readonly idempotency: IdempotencyStore;
  /** Ids of server-issued sessions (default: 128 random bits, `newSessionId`). */
  readonly newSessionId?: () => string;
  readonly readYourWrites?: Partial<ReadYourWritesOptions>;
}

/** The resolved form the routes use. */
export interface RouteSessions {
  readonly registry: SessionRegistry;
  readonly idempotency: IdempotencyStore;
  readonly newSessionId: () => string;
  readonly readYourWrites: ReadYourWritesOptions;
}

/** ApiDeps.sessions with defaults: in-memory twins on the API's clock when absent. */
export function resolveSessions(s: ApiSessions | undefined, clock: () => number): RouteSessions {
  return {
    registry: s?.registry ?? createMemorySessionRegistry({ clock }),
    idempotency: s?.idempotency ?? createMemoryIdempotencyStore({ clock }),
    newSessionId: s?.newSessionId ?? newSessionId,
    readYourWrites: { ...DEFAULT_READ_YOUR_WRITES, ...s?.readYourWrites },
  };
}

export type { IdempotencyStore, StoredAnswer } from './idempotency-store.ts';
export { createMemoryIdempotencyStore } from './idempotency-store.ts';
export { createRedisIdempotencyStore, createRedisSessionRegistry } from './redis-sessions.ts';
export type { SessionInfo, SessionRegistry } from './session-registry.ts';
export { createMemorySessionRegistry, DEFAULT_SESSION_TTL_MS } from './session-registry.ts';
