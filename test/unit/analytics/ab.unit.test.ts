import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { abSummary, foldExamples } from '../../../analytics/ab.ts';
import { priceFrom } from '../../../analytics/cost.ts';
import { type TrainingExample, trainingExampleSchema } from '../../../schemas/index.ts';

const sample = trainingExampleSchema.parse(
  JSON.parse(
    readFileSync(new URL('../../../schemas/examples/h-training-example.json', import.meta.url), 'utf8'),
  ),
);

function h(
  session: string,
  variant: string,
  outcome: TrainingExample['outcome'],
  usage: { prompt: number; completion: number; latency?: number }[],
  revision = 1,
): TrainingExample {
  return {
    ...sample,
    recommend_session_id: session,
    event_id: `h:${session}:${revision}`,
    revision,
    outcome,
    paraphrases: usage.map((u) => ({
      ...sample.paraphrases[0]!,
      variant,
      prompt_tokens: u.prompt,
      completion_tokens: u.completion,
      ...(u.latency === undefined ? {} : { latency_ms: u.latency }),
    })),
  };
}

describe('foldExamples', () => {
  it('counts the latest revision of each session once, by the variant of its paraphrases', () => {
    const out = foldExamples([
      h('s1', 'A', 'rejected', [{ prompt: 100, completion: 20, latency: 300 }], 1),
      h('s1', 'A', 'accepted', [{ prompt: 100, completion: 20, latency: 300 }], 2),
      h('s2', 'A', 'edited', [
        { prompt: 50, completion: 10, latency: 100 },
        { prompt: 50, completion: 10, latency: 200 },
      ]),
      h('s3', 'B', 'rejected', [{ prompt: 80, completion: 40 }]),
      h('s4', 'B', 'not_paraphrased', []),
    ]);
    expect(out).toEqual([
      {
        variant: 'A',
        sessions: 2,
        accepted: 2,
        edited: 1,
        paraphrases: 3,
        promptTokens: 200,
        completionTokens: 40,
        latenciesMs: [300, 100, 200],
      },
      {
        variant: 'B',
        sessions: 1,
        accepted: 0,
        edited: 0,
        paraphrases: 1,
        promptTokens: 80,
        completionTokens: 40,
        latenciesMs: [],
      },
    ]);
  });

  it('filters with include', () => {
    const out = foldExamples([h('s1', 'A', 'accepted', [{ prompt: 1, completion: 1 }])], {
      include: (x) => x.consistency !== 'high',
    });
    expect(out).toEqual([]);
  });
});

describe('abSummary', () => {
  const make = (variant: string, n: number, accepted: number, latency: number, prompt: number) =>
    Array.from({ length: n }, (_, i) =>
      h(`${variant}-${i}`, variant, i < accepted ? 'accepted' : 'rejected', [
        { prompt, completion: 50, latency: latency + (i % 10) },
      ]),
    );

  it('gives per-variant acceptance, latency, cost and the verdict', () => {
    const price = priceFrom({ promptPer1k: 0.001, completionPer1k: 0.002 });
    const s = abSummary(
      foldExamples([...make('A', 1000, 300, 400, 200), ...make('B', 1000, 420, 410, 200)]),
      {
        price,
      },
    );
    const [a, b] = s.variants;
    expect(a!.variant).toBe('A');
    expect(a!.acceptance.estimate).toBe(0.3);
    expect(a!.acceptance.low).toBeGreaterThan(0.27);
    expect(a!.acceptance.high).toBeLessThan(0.33);
    expect(a!.tokensPerSession).toBe(250);
    expect(a!.latency.p95).toBeCloseTo(409, 6);
    // 1000 × (0.2 × 0.001 + 0.05 × 0.002) = 0.3 spent over 300 accepted.
    expect(a!.cost.costPerAccepted).toBeCloseTo(0.001, 12);
    expect(b!.cost.costPerAccepted).toBeCloseTo(0.3 / 420, 12);
    expect(s.test.verdict).toBe('B better');
    expect(s.decision).toBe('ship B');
  });

  it('blocks shipping a better but much slower B', () => {
    const s = abSummary(foldExamples([...make('A', 1000, 300, 400, 200), ...make('B', 1000, 420, 900, 200)]));
    expect(s.test.verdict).toBe('B better');
    expect(s.decision).toBe('blocked by guardrail');
    expect(s.blockedBy).toEqual(['latency_p95']);
  });

  it('has both arms and no verdict when B has no traffic', () => {
    const s = abSummary(foldExamples(make('A', 50, 10, 400, 200)));
    expect(s.variants.map((v) => v.variant)).toEqual(['A', 'B']);
    expect(s.variants[1]!.sessions).toBe(0);
    expect(s.test.verdict).toBe('insufficient data');
    expect(s.decision).toBe('keep running');
  });
});
