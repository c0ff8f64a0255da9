import { describe, expect, it } from 'vitest';
import { loadPersonas, type Persona, parsePersonas } from '../../simulator/personas/schema.ts';
import { loadContextPool } from '../../simulator/pools/contexts.ts';
import { runEvaluation } from '../../simulator/run-evaluation.ts';

const contexts = loadContextPool();
const strip = <T extends { timing: unknown }>(r: T) => ({ ...r, timing: undefined });

function expectRising(curve: { bucket: string; hit_at_1: number }[]) {
  const h = curve.map((c) => c.hit_at_1);
  // the curve rises from cold start to long history (small wobbles between neighbours allowed)
  expect(h[4]!).toBeGreaterThan(h[0]!);
  expect(h[3]!).toBeGreaterThan(h[1]!);
  expect(h[2]!).toBeGreaterThan(h[0]!);
}

describe('personalisation evaluation (embedded wheel)', () => {
  it('on the shipped sample and its mined personas, 1,500 sessions: lift ≥ 0.2, >10 sessions ≥ 0.9, rising curve', async () => {
    const r = await runEvaluation({ personas: loadPersonas(), contexts, sessions: 1500, seed: 42 });
    expect(r.personalised.sessions).toBe(1500);
    expect(r.personalised.hit_at_1 - r.baseline.hit_at_1).toBeGreaterThanOrEqual(0.2);
    const long = r.cold_start.find((c) => c.bucket === '>10')!;
    expect(long.sessions).toBeGreaterThan(500);
    expect(long.hit_at_1).toBeGreaterThanOrEqual(0.9);
    expectRising(r.cold_start);
    expect(r.personalised.degraded_sessions).toBe(0);
  });

  it('does the same for a hand-written seeds-format file whose personas prefer what their texts are not', async () => {
    // Only the seeds' five fields; the bots write on every topic, so the context never gives
    // their option away.
    const personas: Persona[] = parsePersonas([
      {
        name: 'Scholar',
        preferred_category: 'thesis',
        preferred_intensity: 'strong',
        style_prompt: '학술적인 톤으로 변경해줘',
        accept_rate: 0.8,
      },
      {
        name: 'Socializer',
        preferred_category: 'general',
        preferred_intensity: 'weak',
        style_prompt: '친근하게',
        accept_rate: 0.6,
      },
      {
        name: 'Marketer',
        preferred_category: 'marketing',
        preferred_intensity: 'moderate',
        style_prompt: 'make it catchy',
        accept_rate: 0.7,
      },
      {
        name: 'Agent',
        preferred_category: 'customer_service',
        preferred_intensity: 'strong',
        style_prompt: '',
        accept_rate: 0.9,
      },
      {
        name: 'Reporter',
        preferred_category: 'article',
        preferred_intensity: 'weak',
        style_prompt: 'shorter please',
        accept_rate: 0.5,
      },
      {
        name: 'Manager',
        preferred_category: 'report',
        preferred_intensity: 'moderate',
        style_prompt: '요약해줘',
        accept_rate: 0.75,
      },
    ]);
    const r = await runEvaluation({ personas, contexts, sessions: 1500, seed: 7 });
    expect(r.personalised.hit_at_1 - r.baseline.hit_at_1).toBeGreaterThanOrEqual(0.2);
    expect(r.cold_start.find((c) => c.bucket === '>10')!.hit_at_1).toBeGreaterThanOrEqual(0.9);
    expectRising(r.cold_start);
    for (const p of Object.values(r.personalised.per_persona)) expect(p.hit_at_1).toBeGreaterThan(0.5);
  });

  it('gives the same report for the same seed, outside timing', async () => {
    const personas = loadPersonas().slice(0, 4);
    const a = await runEvaluation({ personas, contexts, sessions: 240, seed: 3 });
    const b = await runEvaluation({ personas, contexts, sessions: 240, seed: 3 });
    expect(strip(a)).toEqual(strip(b));
    const c = await runEvaluation({ personas, contexts, sessions: 240, seed: 4 });
    expect(strip(c)).not.toEqual(strip(a));
  });
});
