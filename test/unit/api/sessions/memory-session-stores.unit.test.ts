import { createMemoryIdempotencyStore } from '../../../../api/sessions/idempotency-store.ts';
import { createMemorySessionRegistry } from '../../../../api/sessions/session-registry.ts';
import { sessionStoreContract } from '../../../helpers/session-contract.ts';

sessionStoreContract('in-memory', async (ttls) => {
  let now = Date.parse('2026-03-02T09:00:00Z');
  const clock = () => now;
  return {
    registry: createMemorySessionRegistry({ ttlMs: ttls.sessionTtlMs, clock }),
    idempotency: createMemoryIdempotencyStore({
      ttlMs: ttls.idempotencyTtlMs,
      pendingTtlMs: ttls.pendingTtlMs,
      clock,
    }),
    elapse: async (ms) => {
      now += ms;
    },
  };
});
