import { describe, expect, it } from 'vitest';
import exampleH from '../../../../schemas/examples/h-training-example.json' with { type: 'json' };
import { DEFAULT_TOPICS } from '../../../../schemas/index.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { createExamplesSink } from '../../../../streams/sinks/examples-sink.ts';
import { createMemoryExampleStore } from '../../../../streams/stores/archive-store.ts';

const topic = DEFAULT_TOPICS.trainingExamples;
let offset = 0;
const rec = (value: unknown): LogRecord => ({
  topic,
  partition: 0,
  offset: offset++,
  timestamp: 0,
  key: exampleH.user_id,
  value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
});
const h = (session: string, revision: number) =>
  rec({ ...exampleH, recommend_session_id: session, revision });

describe('training_examples sink', () => {
  it('reads H in its own group', () => {
    const sink = createExamplesSink({ store: createMemoryExampleStore(), topic });
    expect(sink.topics).toEqual([topic]);
    expect(sink.group).toBe('sentencify-training-examples');
    expect(sink.batch).toBeUndefined();
  });

  it('keeps the latest revision per session; a replay or a late older revision is stale', async () => {
    const store = createMemoryExampleStore();
    const sink = createExamplesSink({ store, topic });
    expect(await sink.apply([h('s1', 1), h('s2', 1), h('s1', 2)])).toEqual({
      rejected: [],
      counts: { upserts: 2, stale: 1 },
    });
    expect((await sink.apply([h('s1', 1), h('s1', 2), h('s2', 3)]))?.counts).toEqual({
      upserts: 1,
      stale: 2,
    });
    expect((await store.get('s1'))?.revision).toBe(2);
    expect((await store.get('s2'))?.revision).toBe(3);
    expect(await store.count()).toBe(2);
  });

  it('rejects undecodable H with the decoder’s reason and writes the rest', async () => {
    const sink = createExamplesSink({ store: createMemoryExampleStore(), topic });
    const junk = rec(Buffer.from('nope'));
    const wrong = rec({ ...exampleH, revision: 'two' });
    const out = await sink.apply([junk, h('s3', 1), wrong]);
    expect(out?.counts).toEqual({ upserts: 1, stale: 0 });
    expect(out?.rejected?.map((r) => r.record.offset)).toEqual([junk.offset, wrong.offset]);
    expect(out?.rejected?.[0]?.reason).toMatch(/^not a training example \(malformed_json\)/);
    expect(out?.rejected?.[1]?.reason).toMatch(/^not a training example \(schema_invalid\): revision/);
  });
});
