import { describe, expect, it } from 'vitest';
import { parseSimulationArgs } from '../../../simulator/cli.ts';
import { bucketOf, evaluate } from '../../../simulator/evaluate.ts';
import type { SessionRecord } from '../../../simulator/simulate.ts';

const rec = (
  past: number,
  rankOfPreferred: number,
  outcome: SessionRecord['outcome'] = 'accepted',
): SessionRecord => {
  const ranked = ['x:weak', 'y:weak', 'z:weak', 'w:weak'];
  if (rankOfPreferred > 0) ranked.splice(rankOfPreferred - 1, 0, 'p:strong');
  return {
    persona: 'P',
    user: 'u',
    past,
    preferred: 'p:strong',
    ranked,
    explored: false,
    coldStart: past === 0,
    degraded: false,
    chosen: 'p:strong',
    outcome,
    language: 'en',
  };
};

describe('evaluate', () => {
  it('computes hit@1, NDCG@3 with binary relevance, acceptance and the cold-start buckets', () => {
    const r = evaluate([rec(0, 2, 'rejected'), rec(1, 1), rec(4, 3), rec(11, 5, 'abandoned'), rec(12, 1)]);
    expect(r.sessions).toBe(5);
    expect(r.hit_at_1).toBe(0.4);
    expect(r.ndcg_at_3).toBeCloseTo((1 / Math.log2(3) + 1 + 1 / Math.log2(4) + 0 + 1) / 5, 4);
    expect(r.acceptance_rate).toBe(0.6);
    expect(r.cold_start).toEqual([
      { bucket: '0', hit_at_1: 0, sessions: 1 },
      { bucket: '1-2', hit_at_1: 1, sessions: 1 },
      { bucket: '3-5', hit_at_1: 0, sessions: 1 },
      { bucket: '6-10', hit_at_1: 0, sessions: 0 },
      { bucket: '>10', hit_at_1: 0.5, sessions: 2 },
    ]);
    expect(r.per_persona.P!.preferred).toBe('p:strong');
  });

  it('buckets past sessions as the report names them', () => {
    expect([0, 1, 2, 3, 5, 6, 10, 11, 400].map(bucketOf)).toEqual([
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

describe('simulate CLI arguments', () => {
  it('parses the options and rejects bad ones with the flag named', () => {
    expect(parseSimulationArgs(['--sessions', '20', '--seed', '9'])).toMatchObject({ sessions: 20, seed: 9 });
    expect(() => parseSimulationArgs(['--sessions', 'many'])).toThrow(/--sessions/);
    expect(() => parseSimulationArgs(['--api', 'localhost:8080'])).toThrow(/--api/);
    expect(() => parseSimulationArgs(['--bogus'])).toThrow();
  });
});
