import { describe, expect, it } from 'vitest';
import {
  decodeAsOf,
  encodeAsOf,
  profileSatisfies,
  readProfileWhen,
} from '../../../../api/sessions/read-your-writes.ts';
import { bodyFingerprint, idempotentEventId } from '../../../../api/sessions/session-id.ts';
import type { UserProfile } from '../../../../schemas/index.ts';
import { emptyProfile } from '../../../../streams/reducers/evolve-profile.ts';

const withSession = (sid: string, ts: string, version: number): UserProfile => ({
  ...emptyProfile('u1'),
  version,
  recent: {
    [sid]: {
      revision: 1,
      ts,
      option: null,
      outcome: 'rejected',
      style_request: false,
      language: 'en',
      embedded: false,
    },
  },
});

describe('as_of tokens', () => {
  it('round-trip, and anything else is not one', () => {
    const a = { session: 'rs_x', ts: '2026-03-02T09:00:15.000Z' };
    expect(decodeAsOf(encodeAsOf(a))).toEqual(a);
    for (const bad of ['rs_x', 'c1.', 'c1.!!!', `c1.${Buffer.from('[1]').toString('base64url')}`]) {
      expect(decodeAsOf(bad)).toBeNull();
    }
    expect(decodeAsOf(`c1.${Buffer.from('{"s":"a","t":"not a time"}').toString('base64url')}`)).toBeNull();
  });

  it('are satisfied by the session folded at or after C, not before, nor by another session', () => {
    const asOf = { session: 's1', ts: '2026-03-02T09:00:15.000Z' };
    expect(profileSatisfies(withSession('s1', '2026-03-02T09:00:15.000Z', 1), { asOf })).toBe(true);
    expect(profileSatisfies(withSession('s1', '2026-03-02T09:00:16.000Z', 1), { asOf })).toBe(true);
    expect(profileSatisfies(withSession('s1', '2026-03-02T09:00:14.999Z', 1), { asOf })).toBe(false);
    expect(profileSatisfies(withSession('s2', '2026-03-02T09:00:20.000Z', 9), { asOf })).toBe(false);
    expect(profileSatisfies(null, { asOf })).toBe(false);
    expect(profileSatisfies(null, { minVersion: 0 })).toBe(true);
    expect(profileSatisfies(withSession('s1', asOf.ts, 3), { asOf, minVersion: 4 })).toBe(false);
  });

  it('a wait ends after maxWaitMs / pollMs polls even with a sleep that returns at once', async () => {
    let reads = 0;
    const r = await readProfileWhen(
      async () => {
        reads++;
        return null;
      },
      { minVersion: 1 },
      { maxWaitMs: 100, pollMs: 10, sleep: async () => {} },
    );
    expect(r.satisfied).toBe(false);
    expect(reads).toBe(11);
  });
});

describe('idempotency ids', () => {
  it('derive one event id per route, user and key, and fingerprint bodies regardless of key order', () => {
    const id = idempotentEventId('/select', 'u1', 'k');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idempotentEventId('/select', 'u1', 'k')).toBe(id);
    expect(idempotentEventId('/select', 'u2', 'k')).not.toBe(id);
    expect(idempotentEventId('/paraphrase', 'u1', 'k')).not.toBe(id);
    expect(bodyFingerprint({ a: 1, b: [1, { c: 'x', d: null }] })).toBe(
      bodyFingerprint({ b: [1, { d: null, c: 'x' }], a: 1 }),
    );
    expect(bodyFingerprint({ a: 1 })).not.toBe(bodyFingerprint({ a: 2 }));
    expect(bodyFingerprint({ a: 1, b: undefined })).toBe(bodyFingerprint({ a: 1 }));
  });
});
