import { afterEach, describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '../../api/sessions/idempotency-store.ts';
import type { SessionRegistry } from '../../api/sessions/session-registry.ts';

export interface SessionStores {
  readonly registry: SessionRegistry;
  readonly idempotency: IdempotencyStore;
  /** Lets `ms` pass for the stores' TTLs (a fake clock, or real time for a real server). */
  elapse(ms: number): Promise<void>;
  cleanup?: () => Promise<void>;
}

export interface SessionStoreTtls {
  readonly sessionTtlMs: number;
  readonly idempotencyTtlMs: number;
  readonly pendingTtlMs: number;
}

const alice = { user_id: 'alice', language: 'en', doc_id: 'doc-1' };
const mallory = { user_id: 'mallory', language: 'en', doc_id: null };
const TTLS: SessionStoreTtls = { sessionTtlMs: 300, idempotencyTtlMs: 300, pendingTtlMs: 150 };

/**
 * The same contract for every SessionRegistry / IdempotencyStore implementation (CONVENTIONS #5):
 * the in-memory twins (test/unit/api/sessions/) and Redis (test/int/redis-sessions.int.test.ts).
 */
export function sessionStoreContract(name: string, make: (ttls: SessionStoreTtls) => Promise<SessionStores>) {
  describe(`${name} session registry and idempotency store`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
    const setup = async () => {
      const s = await make(TTLS);
      cleanup = s.cleanup;
      return s;
    };

    it('opens a session once: the same id is refused to everyone after, its owner kept', async () => {
      const { registry } = await setup();
      expect(await registry.open('rs-1', alice)).toBe(true);
      expect(await registry.open('rs-1', mallory)).toBe(false);
      expect(await registry.open('rs-1', alice)).toBe(false);
      expect(await registry.get('rs-1')).toEqual({
        user_id: 'alice',
        language: 'en',
        doc_id: 'doc-1',
        candidates: null,
        selection: null,
      });
      expect(await registry.open('rs-2', mallory)).toBe(true);
      expect((await registry.get('rs-2'))!.doc_id).toBeNull();
      expect(await registry.get('nobody')).toBeNull();
    });

    it('lets exactly one of many concurrent opens of one id win', async () => {
      const { registry } = await setup();
      const wins = await Promise.all(
        Array.from({ length: 20 }, (_, i) => registry.open('rs-race', { ...alice, user_id: `u${i}` })),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      const owner = (await registry.get('rs-race'))!.user_id;
      expect(owner).toBe(`u${wins.indexOf(true)}`);
    });

    it('records candidates on known sessions only', async () => {
      const { registry } = await setup();
      await registry.open('rs-1', alice);
      await registry.setCandidates('rs-1', 3);
      expect((await registry.get('rs-1'))!.candidates).toBe(3);
      await registry.setCandidates('rs-1', 2);
      expect((await registry.get('rs-1'))!.candidates).toBe(2);
      await registry.setCandidates('ghost', 3);
      expect(await registry.get('ghost')).toBeNull();
      // …so a later open of that id is still a new session.
      expect(await registry.open('ghost', alice)).toBe(true);
    });

    it('claims one selection per session, gives a claim back only to its own event', async () => {
      const { registry } = await setup();
      await registry.open('rs-1', alice);
      const first = { event_id: 'c-1', ts: '2026-03-02T09:00:00.000Z' };
      expect(await registry.claimSelection('rs-1', first)).toBeNull();
      expect(await registry.claimSelection('rs-1', { event_id: 'c-2', ts: first.ts })).toEqual(first);
      expect((await registry.get('rs-1'))!.selection).toEqual(first);
      await registry.releaseSelection('rs-1', 'c-2'); // not its claim: no effect
      expect((await registry.get('rs-1'))!.selection).toEqual(first);
      await registry.releaseSelection('rs-1', 'c-1');
      expect((await registry.get('rs-1'))!.selection).toBeNull();
      expect(await registry.claimSelection('rs-1', { event_id: 'c-3', ts: first.ts })).toBeNull();
      await registry.open('rs-r', alice);
      const racers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          registry.claimSelection('rs-r', { event_id: `r-${i}`, ts: first.ts }),
        ),
      );
      expect(racers.filter((r) => r === null)).toHaveLength(1);
    });

    it('holds selections back while a B is being emitted, and refuses the B after a selection', async () => {
      const { registry, elapse } = await setup();
      await registry.open('rs-1', alice);
      const c = { event_id: 'c-1', ts: '2026-03-02T09:00:00.000Z' };
      expect(await registry.beginParaphraseEmit('rs-1', 'b-1', 60_000)).toBeNull();
      expect(await registry.beginParaphraseEmit('rs-1', 'b-2', 60_000)).toBeNull(); // two paraphrases
      expect(await registry.claimSelection('rs-1', c)).toBe('busy');
      expect((await registry.get('rs-1'))!.selection).toBeNull(); // nothing was claimed
      await registry.endParaphraseEmit('rs-1', 'b-1');
      expect(await registry.claimSelection('rs-1', c)).toBe('busy'); // b-2 still emitting
      await registry.endParaphraseEmit('rs-1', 'b-2');
      expect(await registry.claimSelection('rs-1', c)).toBeNull();
      // After the selection, a paraphrase may not emit its B.
      expect(await registry.beginParaphraseEmit('rs-1', 'b-3', 60_000)).toEqual(c);
      // A hold whose process died mid-emit lapses after holdMs.
      await registry.open('rs-2', alice);
      expect(await registry.beginParaphraseEmit('rs-2', 'b-4', 100)).toBeNull();
      expect(await registry.claimSelection('rs-2', c)).toBe('busy');
      await elapse(150);
      expect(await registry.claimSelection('rs-2', c)).toBeNull();
      // An unknown session: nothing held, nothing to refuse.
      expect(await registry.beginParaphraseEmit('ghost', 'b-5', 60_000)).toBeNull();
      expect(await registry.get('ghost')).toBeNull();
    });

    it('forgets a session after its TTL, and the id can be opened again', async () => {
      const { registry, elapse } = await setup();
      await registry.open('rs-1', alice);
      await elapse(TTLS.sessionTtlMs + 100);
      expect(await registry.get('rs-1')).toBeNull();
      expect(await registry.open('rs-1', mallory)).toBe(true);
      expect((await registry.get('rs-1'))!.user_id).toBe('mallory');
    });

    it("erases a user's sessions and idempotency keys, and nobody else's", async () => {
      const { registry, idempotency } = await setup();
      await registry.open('rs-a1', alice);
      await registry.open('rs-a2', alice);
      await registry.open('rs-m1', mallory);
      await idempotency.begin('ka', 'f', 'alice');
      await idempotency.complete('ka', 'f', { status: 200, body: { candidates: ["alice's text"] } });
      await idempotency.begin('km', 'f', 'mallory');
      expect(await registry.eraseUser('alice')).toBe(2);
      expect(await idempotency.eraseUser('alice')).toBe(1);
      expect(await registry.get('rs-a1')).toBeNull();
      expect(await registry.get('rs-a2')).toBeNull();
      expect(await idempotency.begin('ka', 'f2', 'x')).toBeNull();
      expect((await registry.get('rs-m1'))!.user_id).toBe('mallory');
      expect(await idempotency.begin('km', 'f', 'mallory')).toEqual({ fingerprint: 'f', answer: null });
      expect(await registry.eraseUser('alice')).toBe(0);
      expect(await idempotency.eraseUser('nobody')).toBe(0);
    });

    it('an erasure while a write runs still reaches the answer it stores after', async () => {
      const { idempotency } = await setup();
      expect(await idempotency.begin('k-late', 'f', 'alice')).toBeNull();
      await idempotency.eraseUser('alice'); // the request is still running
      await idempotency.complete(
        'k-late',
        'f',
        { status: 200, body: { candidates: ["alice's text"] } },
        'alice',
      );
      expect(await idempotency.eraseUser('alice')).toBe(1);
      expect(await idempotency.begin('k-late', 'f', 'x')).toBeNull();
    });

    it('claims an idempotency key once, keeps the first answer, frees a released key', async () => {
      const { idempotency } = await setup();
      expect(await idempotency.begin('k1', 'f1')).toBeNull();
      expect(await idempotency.begin('k1', 'f1')).toEqual({ fingerprint: 'f1', answer: null });
      expect(await idempotency.begin('k1', 'f2')).toEqual({ fingerprint: 'f1', answer: null });
      const answer = { status: 200, body: { ok: true, candidates: ['a', 'b'] } };
      await idempotency.complete('k1', 'f1', answer);
      expect(await idempotency.begin('k1', 'f1')).toEqual({ fingerprint: 'f1', answer });
      expect(await idempotency.begin('k2', 'f1')).toBeNull();
      await idempotency.release('k2');
      expect(await idempotency.begin('k2', 'f9')).toBeNull();
      const racers = await Promise.all(Array.from({ length: 20 }, () => idempotency.begin('k3', 'f')));
      expect(racers.filter((r) => r === null)).toHaveLength(1);
    });

    it('lets a claim without an answer lapse sooner than an answer', async () => {
      const { idempotency, elapse } = await setup();
      await idempotency.begin('pending', 'f');
      await idempotency.begin('done', 'f');
      await idempotency.complete('done', 'f', { status: 200, body: 1 });
      await elapse(TTLS.pendingTtlMs + 50);
      expect(await idempotency.begin('pending', 'f')).toBeNull();
      expect(await idempotency.begin('done', 'f')).toEqual({
        fingerprint: 'f',
        answer: { status: 200, body: 1 },
      });
      await elapse(TTLS.idempotencyTtlMs);
      expect(await idempotency.begin('done', 'f')).toBeNull();
    });
  });
}
