import { describe, expect, it } from 'vitest';
import {
  buildRecommendEvent,
  eventJson,
  jsonWithField,
  optionsJson,
  type RecommendEventInput,
} from '../../../api/recommend-event.ts';
import {
  DEFAULT_SCORING_CONFIG,
  explorationDraw,
  rescore,
  SCORER_VERSION,
  scoreOptions,
} from '../../../api/scoring/index.ts';
import type { SearchHit } from '../../../api/vector/vector-index.ts';
import { DEFAULT_VOCABULARY, recommendEventSchema } from '../../../schemas/index.ts';
import { hashEmbed } from '../../../streams/embeddings/hashing-embedder.ts';

const hit = (id: string, option_key: string, score: number): SearchHit => ({
  id,
  score,
  payload: {
    option_key,
    category: option_key.split(':')[0]!,
    intensity: option_key.split(':')[1] as 'strong',
    style_request: null,
    language: 'en',
    user_id: 'u9',
    consistency: 'high',
    example_id: `h:${id}:1`,
    ts: '2026-01-01T00:00:00.000Z',
  },
});

function input(over: Partial<RecommendEventInput> = {}): RecommendEventInput {
  const neighbours = [hit('rs-1', 'email:strong', 0.8), hit('rs-2', 'report:weak', 0.4)];
  const embedding = hashEmbed('Please find the report attached.', 64);
  const result = scoreOptions({
    vocabulary: DEFAULT_VOCABULARY,
    language: 'en',
    neighbours,
    doc: { field: 'email', history: { 'email:moderate': 2 } },
    profile: null,
    embedding,
    cluster: null,
    config: DEFAULT_SCORING_CONFIG,
    draw: explorationDraw('rs-new'),
  });
  return {
    eventId: 'evt-a-1',
    at: Date.UTC(2026, 10, 23, 9, 15, 0, 250),
    sessionId: 'rs-new',
    request: {
      user_id: 'u1',
      text: 'Please find the report attached.',
      doc_id: 'd1',
      prev_sentence: 'Hello.',
      doc_field: 'email',
    },
    language: 'en',
    result,
    variant: 'B',
    neighbours,
    docHistory: { 'email:moderate': 2 },
    clusterId: null,
    ...over,
  };
}

describe('buildRecommendEvent', () => {
  it('builds a valid A with the ids and time it is given, the answer and what the scorer read', () => {
    const i = input();
    const a = buildRecommendEvent(i);
    expect(recommendEventSchema.parse(a)).toEqual(a);
    expect(a).toMatchObject({
      type: 'recommend',
      event_id: 'evt-a-1',
      ts: '2026-11-23T09:15:00.250Z',
      user_id: 'u1',
      recommend_session_id: 'rs-new',
      doc_id: 'd1',
      context: { text: 'Please find the report attached.', prev_sentence: 'Hello.', language: 'en' },
      variant: 'B',
      model_version: SCORER_VERSION,
      options: i.result.options,
      alpha: i.result.alpha,
      beta: i.result.beta,
      epsilon: i.result.epsilon,
      explored: i.result.explored,
    });
    expect(a.inputs).toEqual({
      neighbours: [
        { id: 'rs-1', score: 0.8, option_key: 'email:strong', language: 'en' },
        { id: 'rs-2', score: 0.4, option_key: 'report:weak', language: 'en' },
      ],
      doc_history: { 'email:moderate': 2 },
      cluster_id: null,
    });
    expect(buildRecommendEvent(i)).toEqual(a);
  });

  it('logs enough to re-score the answer exactly', () => {
    const a = recommendEventSchema.parse(JSON.parse(JSON.stringify(buildRecommendEvent(input()))));
    const report = rescore(a, {
      vocabulary: DEFAULT_VOCABULARY,
      neighbours: a.inputs!.neighbours.map((n) => ({
        score: n.score,
        payload: { option_key: n.option_key, language: n.language },
      })),
      doc: { field: a.context.doc_field ?? null, history: a.inputs!.doc_history },
      profile: null,
      embedding: hashEmbed(a.context.text, 64),
      cluster: null,
    });
    expect(report.differences).toEqual([]);
  });
});

describe('eventJson, jsonWithField, optionsJson', () => {
  it('write an A exactly as JSON.stringify does, the options written once for A and the answer', () => {
    for (const over of [
      {},
      // Optional fields absent (undefined), as a bare request leaves them.
      { request: { user_id: 'u1', text: 'Hi "there" \u00b7 \ud83d\ude00\n' } },
    ] as Partial<RecommendEventInput>[]) {
      const a = buildRecommendEvent(input(over));
      expect(eventJson(a)).toBe(JSON.stringify(a));
      // The answer carries the same array: its text is JSON.stringify's too, options reused.
      const answer = {
        recommend_session_id: 'rs-new',
        options: a.options,
        degraded: undefined,
        cold_start: true,
      };
      expect(optionsJson(a.options)).toBe(JSON.stringify(a.options));
      expect(jsonWithField(answer, 'options', optionsJson(a.options))).toBe(JSON.stringify(answer));
      expect(JSON.parse(eventJson(a))).toEqual(JSON.parse(JSON.stringify(a)));
    }
  });

  it('jsonWithField keeps key order with the field first, last, alone or absent', () => {
    const v = '[1,2.5,"x"]';
    const cases: Record<string, unknown>[] = [
      { options: [1, 2.5, 'x'], b: 1 },
      { a: 'q', options: [1, 2.5, 'x'] },
      { options: [1, 2.5, 'x'] },
      { a: 1, options: [1, 2.5, 'x'], z: { y: null } },
    ];
    for (const c of cases) expect(jsonWithField(c, 'options', v)).toBe(JSON.stringify(c));
    expect(jsonWithField({ a: 1 }, 'options', v)).toBe('{"a":1}');
    expect(jsonWithField({ a: 1, options: undefined }, 'options', v)).toBe('{"a":1}');
  });

  it('writes other events with JSON.stringify', () => {
    const c = { type: 'selection', recommend_session_id: 'rs-1', options: 'not A' } as never;
    expect(eventJson(c)).toBe(JSON.stringify(c));
  });
});
