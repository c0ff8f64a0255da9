import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type TrainingExample, trainingExampleSchema } from '../../../../schemas/index.ts';
import { contextPointsFromExamples } from '../../../../streams/sinks/context-points.ts';

const base: TrainingExample = trainingExampleSchema.parse(
  JSON.parse(
    readFileSync(new URL('../../../../schemas/examples/h-training-example.json', import.meta.url), 'utf8'),
  ),
);

function h(session: string, over: Partial<TrainingExample> = {}): TrainingExample {
  const revision = over.revision ?? 1;
  return { ...base, recommend_session_id: session, event_id: `h:${session}:${revision}`, ...over };
}

const vectors = new Map([
  ['s1', [1, 0, 0]],
  ['s2', [0, 1, 0]],
  ['s3', [0, 0, 1]],
  ['s4', [1, 1, 0]],
]);

describe('contextPointsFromExamples', () => {
  it('indexes a kept, high-consistency session under its session id', () => {
    const { upserts, deletes } = contextPointsFromExamples([h('s1')], vectors);
    expect(deletes).toEqual([]);
    expect(upserts).toHaveLength(1);
    const [p] = upserts;
    expect(p!.id).toBe('s1');
    expect(Array.from(p!.vector)).toEqual([1, 0, 0]);
    expect(p!.payload).toEqual({
      option_key: 'report:strong',
      category: 'report',
      intensity: 'strong',
      style_request: null,
      language: 'ko',
      user_id: base.user_id,
      consistency: 'high',
      example_id: 'h:s1:1',
      ts: base.ts,
    });
  });

  it('skips lower consistency, no context, no option, rejected, or no embedding', () => {
    const { upserts, deletes } = contextPointsFromExamples(
      [
        h('s1', { consistency: 'medium' }),
        h('s2', { context: null }),
        h('s3', { chosen_option: null, style_request: null }),
        h('s4', { outcome: 'rejected' }),
        h('s5'),
      ],
      vectors,
    );
    expect(upserts).toEqual([]);
    expect(deletes).toEqual([]);
  });

  it('keeps only the latest revision, and deletes a session whose new revision no longer qualifies', () => {
    const batch = [
      h('s1', { revision: 1 }),
      h('s1', { revision: 2, outcome: 'edited' }),
      h('s2', { revision: 1 }),
      h('s2', { revision: 2, consistency: 'medium' }),
      h('s3', { revision: 3, consistency: 'low' }),
    ];
    const { upserts, deletes } = contextPointsFromExamples(batch, vectors);
    expect(upserts.map((p) => [p.id, p.payload.example_id])).toEqual([['s1', 'h:s1:2']]);
    expect(deletes.sort()).toEqual(['s2', 's3']);
  });

  it('includes kept style requests and rejected sessions only when asked', () => {
    const style = h('s1', { chosen_option: null, style_request: '정중하게' });
    const rejected = h('s2', { outcome: 'rejected' });
    expect(contextPointsFromExamples([style, rejected], vectors).upserts).toEqual([]);
    const { upserts } = contextPointsFromExamples([style, rejected], vectors, {
      includeStyleRequests: true,
      includeRejected: true,
    });
    expect(upserts.map((p) => [p.id, p.payload.option_key, p.payload.style_request])).toEqual([
      ['s1', null, '정중하게'],
      ['s2', 'report:strong', null],
    ]);
  });

  it('reads embeddings from a function as well as a map', () => {
    const { upserts } = contextPointsFromExamples([h('s9')], (ex) =>
      ex.recommend_session_id === 's9' ? new Float32Array([0.5, 0.5, 0]) : null,
    );
    expect(upserts.map((p) => p.id)).toEqual(['s9']);
  });
});
