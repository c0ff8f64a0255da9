import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abSummary, foldExamples } from '../../../analytics/ab.ts';
import {
  acceptanceRate,
  FUNNEL_STAGES,
  isAccepted,
  sessionIndexBucket,
  stagesReached,
} from '../../../analytics/kpi-definitions.ts';
import { createKpiView, kpisOf } from '../../../analytics/kpis.ts';
import type { TrainingExample } from '../../../schemas/index.ts';
import { sampleExample } from '../../helpers/golden-contract.ts';

const HOUR = 3_600_000;

/** A session of `user` at `hour`, accepted or not, on the sample's top option or another. */
function session(
  id: string,
  o: {
    user?: string;
    hour?: number;
    revision?: number;
    outcome?: TrainingExample['outcome'];
    top?: boolean;
    variant?: string;
    funnel?: string;
    consistency?: TrainingExample['consistency'];
    tokens?: [number, number];
    latency?: number;
    styleRequest?: string;
    profileVersion?: number | null;
  } = {},
): TrainingExample {
  const h = sampleExample(id, o.revision ?? 1, {
    startIso: new Date(Date.parse('2026-11-23T00:00:00.000Z') + (o.hour ?? 0) * HOUR).toISOString(),
  });
  const p = h.paraphrases[0]!;
  return {
    ...h,
    user_id: o.user ?? 'u1',
    outcome: o.outcome ?? 'accepted',
    funnel: o.funnel ?? 'ABC',
    consistency: o.consistency ?? 'high',
    chosen_option:
      o.styleRequest !== undefined
        ? null
        : o.top === false
          ? { category: 'email', intensity: 'moderate' }
          : { category: 'report', intensity: 'strong' },
    style_request: o.styleRequest ?? null,
    recommended: {
      ...h.recommended!,
      variant: o.variant ?? 'A',
      profile_version: o.profileVersion === undefined ? 3 : o.profileVersion,
    },
    paraphrases: [
      {
        ...p,
        variant: o.variant ?? 'A',
        ...(o.tokens ? { prompt_tokens: o.tokens[0], completion_tokens: o.tokens[1] } : {}),
        ...(o.latency !== undefined ? { latency_ms: o.latency } : {}),
      },
    ],
  };
}

describe('KPI definitions', () => {
  it('counts accepted and edited as accepted, and nothing else', () => {
    expect(['accepted', 'edited', 'rejected', 'not_paraphrased', 'unknown'].map(isAccepted)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(acceptanceRate(3, 4)).toBe(0.75);
    expect(acceptanceRate(0, 0)).toBe(0);
  });

  it('reads the funnel stages from H, in order A, B, C, accepted', () => {
    expect(FUNNEL_STAGES.map((s) => s.id)).toEqual(['recommended', 'paraphrased', 'selected', 'accepted']);
    expect(stagesReached('AB', 'rejected')).toEqual({
      recommended: true,
      paraphrased: true,
      selected: false,
      accepted: false,
    });
  });

  it('buckets the session index as the evaluation report does', () => {
    expect([0, 1, 2, 3, 5, 6, 10, 11, 500].map(sessionIndexBucket)).toEqual([
      '0',
      '1-2',
      '1-2',
      '3-5',
      '3-5',
      '6-10',
      '6-10',
      '>10',
      '>10',
    ]);
  });
});

describe('KPI view (fold of H)', () => {
  it('counts sessions by consistency, funnel, stage, outcome and option', () => {
    const k = kpisOf([
      session('s1'),
      session('s2', { outcome: 'rejected', funnel: 'AB', consistency: 'medium', top: false }),
      session('s3', { outcome: 'edited', styleRequest: 'shorter' }),
      session('s4', { outcome: 'not_paraphrased', funnel: 'A', consistency: 'low' }),
    ]);
    expect(k.sessions).toBe(4);
    expect(k.accepted).toBe(2);
    expect(k.acceptance).toBe(0.5);
    expect(k.hitAt1).toBe(0.25 + 0.25); // s1 and s4 (chosen = the top option); s3 chose none
    expect(k.byConsistency).toEqual({ high: 2, low: 1, medium: 1 });
    expect(k.byFunnel).toEqual({ A: 1, AB: 1, ABC: 2 });
    expect(k.byOutcome).toEqual({ accepted: 1, edited: 1, not_paraphrased: 1, rejected: 1 });
    expect(Object.fromEntries(k.stages.map((s) => [s.id, s.sessions]))).toEqual({
      recommended: 4,
      paraphrased: 3,
      selected: 2,
      accepted: 2,
    });
    expect(k.optionMix).toEqual([
      { option: 'report:strong', sessions: 2, accepted: 1 },
      { option: 'email:moderate', sessions: 1, accepted: 0 },
      { option: 'style request', sessions: 1, accepted: 1 },
    ]);
  });

  it('replaces a session by its later revision, and ignores replays and older revisions', () => {
    const view = createKpiView();
    expect(view.apply(session('s1', { outcome: 'rejected', funnel: 'AB' }))).toBe(true);
    expect(view.apply(session('s1', { revision: 2, outcome: 'accepted', funnel: 'ABC' }))).toBe(true);
    expect(view.apply(session('s1', { outcome: 'rejected', funnel: 'AB' }))).toBe(false);
    expect(view.apply(session('s1', { revision: 2 }))).toBe(false);
    const k = view.snapshot();
    expect(k).toMatchObject({ sessions: 1, accepted: 1, records: 4, ignored: 2, users: 1 });
    expect(k.byFunnel).toEqual({ ABC: 1 });
    expect(k.coldStart.find((c) => c.bucket === '0')!.sessions).toBe(1);
    expect(k.coldStart.find((c) => c.bucket === '1-2')!.sessions).toBe(0);
  });

  it('is the same whatever the order of a shuffled log with replays (latest revision wins)', () => {
    const base = Array.from({ length: 30 }, (_, i) =>
      session(`s${i}`, {
        user: `u${i % 4}`,
        hour: i,
        outcome: i % 3 === 0 ? 'rejected' : 'accepted',
        variant: i % 2 ? 'B' : 'A',
        tokens: [100 + i, 40],
        latency: 20 + i,
      }),
    );
    const revised = base
      .filter((_, i) => i % 5 === 0)
      .map((h) => ({ ...h, revision: 2, outcome: 'edited' as const }));
    const expected = kpisOf([...base, ...revised]);
    const all = [...base, ...revised, ...base.slice(0, 7)];
    const queues = new Map<string, TrainingExample[]>();
    for (const h of all) queues.set(h.user_id, [...(queues.get(h.user_id) ?? []), h]);
    for (const q of queues.values()) q.sort((x, y) => x.ts.localeCompare(y.ts) || x.revision - y.revision);
    fc.assert(
      // Any interleaving of the users, each user's examples in order (H is keyed by user: one
      // partition each, read in order), replays included.
      fc.property(
        fc.shuffledSubarray(
          all.map((h) => h.user_id),
          { minLength: all.length },
        ),
        (users) => {
          const next = new Map([...queues].map(([u, q]) => [u, [...q]]));
          const log = users.map((u) => next.get(u)!.shift()!);
          const k = kpisOf(log);
          expect({ ...k, records: 0, ignored: 0 }).toEqual({ ...expected, records: 0, ignored: 0 });
          expect(k.records).toBe(all.length);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('draws the cold-start curve by the user session index', () => {
    const log: TrainingExample[] = [];
    for (let i = 0; i < 12; i++)
      log.push(session(`a${i}`, { user: 'ua', hour: i, outcome: i < 4 ? 'rejected' : 'accepted' }));
    log.push(session('b0', { user: 'ub', hour: 0, outcome: 'rejected', top: false }));
    const k = kpisOf(log);
    expect(k.coldStart.map((c) => [c.bucket, c.sessions, c.accepted])).toEqual([
      ['0', 2, 0],
      ['1-2', 2, 0],
      ['3-5', 3, 2],
      ['6-10', 5, 5],
      ['>10', 1, 1],
    ]);
    expect(k.coldStart[0]!.hitAt1).toBe(0.5);
    expect(k.users).toBe(2);
  });

  it('buckets acceptance and hit@1 over event time', () => {
    const k = kpisOf(
      [
        session('s1', { hour: 0 }),
        session('s2', { hour: 0, outcome: 'rejected', top: false }),
        session('s3', { hour: 2 }),
      ],
      { bucketMs: HOUR },
    );
    expect(
      k.timeline.map((t) => [new Date(t.start).toISOString(), t.sessions, t.acceptance, t.hitAt1]),
    ).toEqual([
      ['2026-11-23T00:00:00.000Z', 2, 0.5, 0.5],
      ['2026-11-23T02:00:00.000Z', 1, 1, 1],
    ]);
  });

  it('sums each variant’s outcomes as analytics/ab.ts does, and counts dead letters by code', () => {
    const log = [
      session('s1', { variant: 'A', tokens: [100, 50], latency: 40 }),
      session('s2', { variant: 'A', tokens: [200, 50], latency: 60, outcome: 'rejected' }),
      session('s2', { variant: 'A', tokens: [200, 50], latency: 60, outcome: 'edited', revision: 2 }),
      session('s3', { variant: 'B', tokens: [10, 5], latency: 700 }),
      session('s4', { variant: 'B', outcome: 'not_paraphrased', funnel: 'A' }),
    ];
    log[4] = { ...log[4]!, paraphrases: [] };
    const view = createKpiView();
    for (const h of log) view.apply(h);
    view.applyDeadLetter('too_late');
    view.applyDeadLetter('too_late');
    view.applyDeadLetter('malformed_json');
    const k = view.snapshot();
    expect(k.ab).toEqual(foldExamples(log));
    expect(k.ab[0]).toMatchObject({
      variant: 'A',
      sessions: 2,
      accepted: 2,
      edited: 1,
      promptTokens: 300,
      completionTokens: 100,
      latenciesMs: [40, 60],
    });
    expect(k.ab[1]).toMatchObject({ variant: 'B', sessions: 1, latenciesMs: [700] });
    expect(abSummary(k.ab).variants.map((v) => v.acceptance.estimate)).toEqual([1, 1]);
    expect(k.deadLetters).toEqual({ malformed_json: 1, too_late: 2 });
  });

  it('forgets contributions beyond the revision horizon, but not their counts', () => {
    const view = createKpiView({ reviseHorizonMs: HOUR });
    for (let i = 0; i < 1_001; i++) view.apply(session(`s${i}`, { user: `u${i}`, hour: i }));
    expect(view.snapshot().sessions).toBe(1_001);
    // a replay inside the horizon still changes nothing
    expect(view.apply(session('s1000', { user: 'u1000', hour: 1000 }))).toBe(false);
    // s0 is 1,000 h behind: its contribution is gone, so a revision that late (H revises within
    // window + grace, far inside the horizon) would be counted as a session of its own
    expect(view.apply(session('s0', { user: 'u0', hour: 0, revision: 2 }))).toBe(true);
    expect(view.snapshot().sessions).toBe(1_002);
  });
});
