import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../../schemas/index.ts';
import {
  type JoinBatch,
  type JoinResult,
  joinBySession,
} from '../../../../streams/operators/join-by-session.ts';
import { INPUT_TOPICS, MIN, mkA, mkB, mkC, recorder, T0 } from '../../../helpers/events.ts';

const OPTS = { inputTopics: INPUT_TOPICS, windowMs: 30 * MIN, graceMs: 10 * MIN };

/** One H or dead letter as a short string: `s1#1 ABC high complete` / `DL s1 beyond_grace`. */
function summarise(r: JoinResult): string[] {
  return [
    ...r.examples.map(
      (h) =>
        `${h.recommend_session_id}#${h.revision} ${h.funnel} ${h.consistency} ${h.closed_by} ${h.outcome}`,
    ),
    ...r.deadLetters.map((d) => `DL ${d.recommend_session_id} ${d.code}`),
  ];
}

type In = SessionEvent | { tick: number };

/**
 * Runs a marble of events/ticks through the join in virtual time. Offsets are numbered in marble
 * order; every input batch yields one output frame (`_` when it produced nothing).
 */
function marble(source: string, values: Record<string, In>, expected: string, out: Record<string, string[]>) {
  new TestScheduler((actual, exp) => expect(actual).toEqual(exp)).run(({ cold, expectObservable }) => {
    const rec = recorder();
    const batches: Record<string, JoinBatch> = {};
    for (const ch of source) {
      const v = values[ch];
      if (v === undefined || ch in batches) continue;
      batches[ch] =
        'tick' in v ? { ticks: [{ partition: 0, now: T0 + v.tick * MIN }] } : { records: [rec(v)] };
    }
    const result = cold(source, batches).pipe(joinBySession(OPTS), map(summarise));
    expectObservable(result).toBe(expected, { ...out, _: [] });
  });
}

describe('joinBySession (marbles, virtual time)', () => {
  it('emits H as soon as an in-order session completes', () => {
    marble('a-b-c|', { a: mkA('s1', 'u1', 0), b: mkB('s1', 'u1', 1), c: mkC('s1', 'u1', 2) }, '_-_-x|', {
      x: ['s1#1 ABC high complete accepted'],
    });
  });

  it('closes a session without B at the window end: A+C is a low-consistency partial', () => {
    marble('a-c-t|', { a: mkA('s1', 'u1', 0), c: mkC('s1', 'u1', 2), t: { tick: 31 } }, '_-_-x|', {
      x: ['s1#1 AC low window accepted'],
    });
  });

  it('closes a session without C at the window end as an explicit negative', () => {
    marble(
      'a-b-t-u|',
      { a: mkA('s1', 'u1', 0), b: mkB('s1', 'u1', 1), t: { tick: 29 }, u: { tick: 30 } },
      '_-_-_-x|',
      { x: ['s1#1 AB medium window rejected'] },
    );
  });

  it('closes an A-only session as not paraphrased', () => {
    marble('a-t|', { a: mkA('s1', 'u1', 0), t: { tick: 45 } }, '_-x|', {
      x: ['s1#1 A medium window not_paraphrased'],
    });
  });

  it('joins out-of-order arrivals (C, then A, then B) and flags out-of-order times', () => {
    marble('c-a-b|', { c: mkC('s1', 'u1', 2), a: mkA('s1', 'u1', 0), b: mkB('s1', 'u1', 3) }, '_-_-x|', {
      x: ['s1#1 ABC medium complete accepted'],
    });
  });

  it('turns a C within grace after the window into revision 2', () => {
    marble(
      'a-b-t-c|',
      { a: mkA('s1', 'u1', 0), b: mkB('s1', 'u1', 1), t: { tick: 31 }, c: mkC('s1', 'u1', 35) },
      '_-_-x-y|',
      { x: ['s1#1 AB medium window rejected'], y: ['s1#2 ABC low grace accepted'] },
    );
  });

  it('dead-letters a C beyond window + grace, and a straggler after the session is forgotten', () => {
    marble(
      'a-b-t-c-u-d|',
      {
        a: mkA('s1', 'u1', 0),
        b: mkB('s1', 'u1', 1),
        t: { tick: 31 },
        c: mkC('s1', 'u1', 41),
        u: { tick: 200 },
        d: mkC('s1', 'u1', 5, { event_id: 'c-s1-again' }),
      },
      '_-_-x-y-_-z|',
      { x: ['s1#1 AB medium window rejected'], y: ['DL s1 beyond_grace'], z: ['DL s1 too_late'] },
    );
  });

  it('dead-letters an event for a session whose grace ended but is still remembered', () => {
    marble('a-t-c|', { a: mkA('s1', 'u1', 0), t: { tick: 45 }, c: mkC('s1', 'u1', 44) }, '_-x-y|', {
      x: ['s1#1 A medium window not_paraphrased'],
      y: ['DL s1 session_closed'],
    });
  });

  it('ignores exact duplicates (a repeated event id) and dead-letters a second, different A', () => {
    marble(
      'a-a-b-b-e-c|',
      {
        a: mkA('s1', 'u1', 0),
        b: mkB('s1', 'u1', 1),
        e: mkA('s1', 'u1', 1, { event_id: 'a-s1-other' }),
        c: mkC('s1', 'u1', 2),
      },
      '_-_-_-_-y-x|',
      { y: ['DL s1 conflicting_recommend'], x: ['s1#1 ABC high complete accepted'] },
    );
  });

  it('keeps many interleaved sessions apart', () => {
    marble(
      'abcdefghi|',
      {
        a: mkA('s1', 'u1', 0),
        b: mkA('s2', 'u2', 0),
        c: mkB('s2', 'u2', 1),
        d: mkA('s3', 'u1', 1),
        e: mkB('s1', 'u1', 1),
        f: mkC('s2', 'u2', 2, { chosen_index: null }),
        g: mkB('s3', 'u1', 2, { request: { style_request: '정중하게' } }),
        h: mkC('s3', 'u1', 3, { edited: true, final_text: 'edited text' }),
        i: mkC('s1', 'u1', 4),
      },
      '_____x_yz|',
      {
        x: ['s2#1 ABC high complete rejected'],
        y: ['s3#1 ABC high complete edited'],
        z: ['s1#1 ABC high complete accepted'],
      },
    );
  });

  it('drops user_mismatch events to the dead-letter output', () => {
    marble(
      'a-b-c|',
      { a: mkA('s1', 'u1', 0), b: mkB('s1', 'intruder', 1), c: mkC('s1', 'u1', 2) },
      '_-x-_(w|)',
      // the source completing flushes the still-open session
      { x: ['DL s1 user_mismatch'], w: ['s1#1 AC low window accepted'] },
    );
  });
});
