import { describe, expect, it } from 'vitest';
import {
  type CapturedInputs,
  DEFAULT_SCORING_CONFIG,
  explorationDraw,
  rescore,
  SCORER_V1_CONFIG,
  SCORER_VERSION,
  type ScoreResult,
  scoreOptions,
} from '../../../../api/scoring/index.ts';
import { type RecommendEvent, recommendEventSchema } from '../../../../schemas/index.ts';
import { hashEmbed } from '../../../../streams/embeddings/hashing-embedder.ts';
import { clusterWith, inputs, nb, profileWith } from './fixtures.ts';

/** A session id whose draw explores at ε = 0.2, so the replay covers exploration too. */
function exploringSession(epsilon: number): string {
  for (let i = 0; ; i++) if (explorationDraw(`rs-${i}`) < epsilon) return `rs-${i}`;
}

function logA(sessionId: string, r: ScoreResult): RecommendEvent {
  // Through JSON and the schema, as A reaches the offline evaluation.
  return recommendEventSchema.parse(
    JSON.parse(
      JSON.stringify({
        type: 'recommend',
        event_id: `a-${sessionId}`,
        schema_version: 1,
        ts: '2026-01-01T00:00:00.000Z',
        user_id: 'u1',
        recommend_session_id: sessionId,
        doc_id: 'd1',
        context: { text: 'Please find the report attached.', language: 'en', doc_field: 'email' },
        options: r.options,
        alpha: r.alpha,
        beta: r.beta,
        variant: 'A',
        epsilon: r.epsilon,
        explored: r.explored,
        model_version: SCORER_VERSION,
        profile_version: r.profile_version,
      }),
    ),
  );
}

describe('rescore', () => {
  const embedding = hashEmbed('Please find the report attached.', 64);
  const captured: CapturedInputs = {
    vocabulary: inputs().vocabulary,
    neighbours: [nb('email:moderate', 0.83), nb('report:strong', 0.61), nb('email:strong', 0.42, 'ko')],
    doc: { field: 'email', history: { 'email:moderate': 1 } },
    profile: profileWith(
      { 'email:strong': [5, 4], 'report:weak': [2, 1] },
      {
        'email:strong': Array.from(hashEmbed('Kind regards, see attached', 64)),
        'report:weak': Array.from(hashEmbed('Q3 revenue grew', 64)),
      },
    ),
    embedding,
    cluster: clusterWith(2, { 'email:strong': 0.5, 'email:moderate': 0.3, 'general:weak': 0.2 }, 12),
  };
  const config = { ...DEFAULT_SCORING_CONFIG, alpha: 0.3, beta: 0.35, epsilon: 0.2 };

  for (const [name, session] of [
    ['greedy', 'rs-greedy'],
    ['explored', exploringSession(0.2)],
  ] as const) {
    it(`reproduces a logged ${name} A exactly from its captured inputs (through JSON)`, () => {
      const live = scoreOptions({
        ...captured,
        language: 'en',
        config,
        draw: explorationDraw(session),
      });
      expect(live.explored).toBe(name === 'explored');
      const a = logA(session, live);
      const replayInputs: CapturedInputs = JSON.parse(
        JSON.stringify({ ...captured, embedding: [...embedding] }),
      );
      const report = rescore(a, { ...replayInputs, vocabulary: captured.vocabulary });
      expect(report.differences).toEqual([]);
      expect(report.matches).toBe(true);
      expect(report.result.options).toEqual(a.options);
    });
  }

  it('reports every difference when the inputs are not the ones the A was scored from', () => {
    const a = logA(
      'rs-x',
      scoreOptions({ ...captured, language: 'en', config, draw: explorationDraw('rs-x') }),
    );
    const report = rescore(a, { ...captured, profile: profileWith({ 'email:strong': [6, 4] }, {}, 8) });
    expect(report.matches).toBe(false);
    expect(report.differences).toContain('profile_version: logged 7, rescored 8');
    expect(report.differences.some((d) => /\(email:strong\) score: logged/.test(d))).toBe(true);
  });

  it("re-scores an A of an older version with that version's config", () => {
    const v1 = { ...SCORER_V1_CONFIG, alpha: config.alpha, beta: config.beta, epsilon: config.epsilon };
    const a = logA(
      'rs-v1',
      scoreOptions({ ...captured, language: 'en', config: v1, draw: explorationDraw('rs-v1') }),
    );
    expect(rescore({ ...a, model_version: 'scorer-v1' }, captured).matches).toBe(true);
    expect(() => rescore({ ...a, model_version: 'toString' }, captured)).toThrow(/toString/);
  });

  it('refuses to guess the config of another scorer version', () => {
    const a = logA('rs-y', scoreOptions({ ...captured, language: 'en', config, draw: 0.9 }));
    expect(() => rescore({ ...a, model_version: 'scorer-v0' }, captured)).toThrow(/scorer-v0/);
    expect(rescore({ ...a, model_version: 'scorer-v0' }, { ...captured, config, draw: 0.9 }).matches).toBe(
      true,
    );
  });
});
