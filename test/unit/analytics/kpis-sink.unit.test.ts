import { describe, expect, it } from 'vitest';
import { createKpiView } from '../../../analytics/kpis.ts';
import { createKpiSink } from '../../../analytics/kpis-sink.ts';
import { encodeExample } from '../../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../../streams/log/event-log.ts';
import { sampleExample } from '../../helpers/golden-contract.ts';

const H = 't.training-examples';
const DL = 't.dead-letter';
let offset = 0;
const rec = (topic: string, value: Buffer, partition = 0): LogRecord => ({
  topic,
  partition,
  offset: offset++,
  key: null,
  value,
  timestamp: 0,
});
const h = (id: string, revision = 1) => rec(H, encodeExample(sampleExample(id, revision)).value);
const dl = (code: string) => rec(DL, Buffer.from(JSON.stringify({ code, reason: 'x' })));

describe('KPI sink', () => {
  it('folds H and counts dead letters by code; a redelivered batch changes nothing', async () => {
    const view = createKpiView();
    const sink = createKpiSink({ view, trainingExamples: H, deadLetter: DL, group: 'g' });
    expect(sink.topics).toEqual([H, DL]);
    expect(sink.fromBeginning).toBe(true);
    const batch = [h('s1'), h('s2'), h('s1', 2), dl('too_late'), dl('too_late'), rec(DL, Buffer.from('{'))];
    const res = await sink.apply(batch);
    expect(res?.counts).toMatchObject({ examples: 3, dead_letters: 3, redelivered: 0 });
    const again = await sink.apply(batch);
    expect(again?.counts).toMatchObject({ examples: 0, dead_letters: 0, redelivered: 6 });
    const k = view.snapshot();
    expect(k.sessions).toBe(2);
    expect(k.records).toBe(3);
    expect(k.deadLetters).toEqual({ too_late: 2, unreadable: 1 });
  });

  it('counts an H record that does not decode, and goes on', async () => {
    const view = createKpiView();
    const sink = createKpiSink({ view, trainingExamples: H, deadLetter: DL, group: 'g' });
    await sink.apply([rec(H, Buffer.from('not json')), h('s9')]);
    expect(view.snapshot()).toMatchObject({ sessions: 1, undecodable: 1, records: 2 });
  });
});
