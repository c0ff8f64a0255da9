import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrainingExample, UserProfile } from '../../../../schemas/index.ts';
import { hashEmbed } from '../../../../streams/embeddings/hashing-embedder.ts';
import { evolveProfile, type ProfileInput } from '../../../../streams/reducers/evolve-profile.ts';
import { SessionJoin } from '../../../../streams/state/session-join.ts';
import { INPUT_TOPICS, MIN, mkA, mkB, mkC, recorder, T0 } from '../../../helpers/events.ts';

/** Real H built by the join, so the fold is tested on what it will actually receive. */
function example(
  session: string,
  user: string,
  minutes: number,
  opts: { option: [string, string]; c: 'accept' | 'reject' | 'none' },
) {
  const join = new SessionJoin({ inputTopics: INPUT_TOPICS, windowMs: 30 * MIN, graceMs: 10 * MIN });
  const rec = recorder();
  const [category, intensity] = opts.option;
  join.push(
    rec(mkA(session, user, minutes, { context: { text: `text ${category} ${session}`, language: 'en' } })),
  );
  join.push(rec(mkB(session, user, minutes + 1, { request: { category, intensity: intensity as 'weak' } })));
  if (opts.c !== 'none')
    join.push(rec(mkC(session, user, minutes + 2, { chosen_index: opts.c === 'accept' ? 0 : null })));
  join.tick(0, T0 + (minutes + 35) * MIN);
  return join.drain().examples;
}

function input(h: TrainingExample, offset: number): ProfileInput {
  return { example: h, embedding: h.context ? hashEmbed(h.context.text, 32) : null, partition: 0, offset };
}

describe('evolveProfile', () => {
  it('counts selections, acceptance and languages, and keeps running-mean embeddings', () => {
    const hs = [
      ...example('s1', 'u1', 0, { option: ['email', 'strong'], c: 'accept' }),
      ...example('s2', 'u1', 10, { option: ['email', 'strong'], c: 'reject' }),
      ...example('s3', 'u1', 20, { option: ['thesis', 'weak'], c: 'none' }),
    ];
    let g: UserProfile | null = null;
    hs.forEach((h, i) => {
      g = evolveProfile(g, input(h, i));
    });
    const p = g!;
    expect(p.version).toBe(3);
    expect(p.sessions).toBe(3);
    expect(p.accepted).toBe(1);
    expect(p.rejected).toBe(2);
    expect(p.options).toEqual({
      'email:strong': { selected: 2, accepted: 1 },
      'thesis:weak': { selected: 1, accepted: 0 },
    });
    expect(p.languages).toEqual({ en: 3 });
    expect(p.embedding!.n).toBe(3);
    expect(p.option_embeddings['email:strong']!.n).toBe(2);
    const e1 = hashEmbed(hs[0]!.context!.text, 32);
    const e2 = hashEmbed(hs[1]!.context!.text, 32);
    expect(p.option_embeddings['email:strong']!.vector[5]).toBeCloseTo((e1[5]! + e2[5]!) / 2, 6);
    expect(p.updated_ts).toBe(hs[2]!.ts);
  });

  it('returns the same object for a replayed offset, and never mutates its input', () => {
    const [h] = example('s1', 'u1', 0, { option: ['email', 'strong'], c: 'accept' });
    const g1 = evolveProfile(null, input(h!, 5));
    const frozen = JSON.stringify(g1);
    expect(evolveProfile(g1, input(h!, 5))).toBe(g1);
    expect(evolveProfile(g1, input(h!, 3))).toBe(g1);
    const [h2] = example('s2', 'u1', 5, { option: ['thesis', 'weak'], c: 'accept' });
    evolveProfile(g1, input(h2!, 6));
    expect(JSON.stringify(g1)).toBe(frozen);
  });

  it('replaces an earlier revision of a session exactly', () => {
    const join = new SessionJoin({ inputTopics: INPUT_TOPICS, windowMs: 30 * MIN, graceMs: 10 * MIN });
    const rec = recorder();
    join.push(rec(mkA('s1', 'u1', 0)));
    join.push(rec(mkB('s1', 'u1', 1, { request: { category: 'email', intensity: 'strong' } })));
    join.tick(0, T0 + 31 * MIN);
    join.push(rec(mkC('s1', 'u1', 35)));
    const [rev1, rev2] = join.drain().examples;
    expect([rev1!.revision, rev2!.revision]).toEqual([1, 2]);
    const g = evolveProfile(evolveProfile(null, input(rev1!, 0)), input(rev2!, 1));
    const direct = evolveProfile(null, input(rev2!, 1));
    expect({ ...g, version: 0, applied_offsets: {} }).toEqual({ ...direct, version: 0, applied_offsets: {} });
    expect(g.rejected).toBe(0);
    expect(g.accepted).toBe(1);
    // an old revision arriving after the new one changes nothing but the offset
    const again = evolveProfile(g, input(rev1!, 2));
    expect({ ...again, applied_offsets: {} }).toEqual({ ...g, applied_offsets: {} });
  });

  it('is idempotent under replay: any crash-and-rewind delivery folds to the same profile', () => {
    const pool = [
      ...example('s1', 'u1', 0, { option: ['email', 'strong'], c: 'accept' }),
      ...example('s2', 'u1', 3, { option: ['thesis', 'weak'], c: 'reject' }),
      ...example('s3', 'u1', 6, { option: ['email', 'strong'], c: 'none' }),
      ...example('s4', 'u1', 9, { option: ['report', 'moderate'], c: 'accept' }),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.record({ at: fc.nat(), back: fc.nat() }), { maxLength: 6 }),
        (picks, crashes) => {
          const log = picks.map((i, offset) => input(pool[i]!, offset));
          let reference: UserProfile | null = null;
          for (const x of log) reference = evolveProfile(reference, x);
          // Deliver with rewinds: after each crash, resume from an earlier committed offset.
          let g: UserProfile | null = null;
          let pos = 0;
          const plan = [...crashes].sort((a, b) => a.at - b.at);
          while (pos < log.length) {
            g = evolveProfile(g, log[pos]!);
            pos++;
            const crash = plan[0];
            if (crash && crash.at % log.length === pos - 1) {
              plan.shift();
              pos = Math.max(0, pos - 1 - (crash.back % (pos + 1)));
            }
          }
          expect(g).toEqual(reference);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses to fold another user into a profile', () => {
    const [h] = example('s1', 'u1', 0, { option: ['email', 'strong'], c: 'accept' });
    const [h2] = example('s2', 'u2', 0, { option: ['email', 'strong'], c: 'accept' });
    const g = evolveProfile(null, input(h!, 0));
    expect(() => evolveProfile(g, input(h2!, 1))).toThrow(/u2/);
  });
});
