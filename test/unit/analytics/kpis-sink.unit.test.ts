import { describe, expect, it } from 'vitest';
import { createKpiView } from '../../../analytics/kpis.ts';
import { createKpiSink } from '../../../analytics/kpis-sink.ts';
import { encodeExample } from '../../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../../streams/log/event-log.ts';
import { createMemoryErasureRegistry } from '../../../streams/stores/erasure-registry.ts';
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

describe('KPI sink and erasure', () => {
  const ER = 't.erasure';
  const erasure = (userId: string, ts: string) =>
    rec(
      ER,
      Buffer.from(
        JSON.stringify({
          type: 'user_erasure',
          event_id: `erasure-${userId}`,
          schema_version: 1,
          ts,
          user_id: userId,
          requested_by: 'ops',
        }),
      ),
    );
  const hOf = (id: string, user: string) =>
    rec(H, encodeExample(sampleExample(id, 1, { patch: { user_id: user } })).value);

  it('an erasure forgets the user in the view, and their older H is not folded again (a rebuild from the log)', async () => {
    const registry = createMemoryErasureRegistry({ salt: 't' });
    const view = createKpiView();
    const sink = createKpiSink({
      view,
      trainingExamples: H,
      deadLetter: DL,
      group: 'g',
      erasureTopic: ER,
      registry,
    });
    expect(sink.topics).toEqual([H, DL, ER]);
    const before = [hOf('s1', 'alice'), hOf('s2', 'alice'), hOf('s3', 'bob')];
    await sink.apply(before);
    expect(view.snapshot()).toMatchObject({ sessions: 3, users: 2 });
    const res = await sink.apply([erasure('alice', '2026-11-24T00:00:00.000Z')]);
    expect(res?.counts).toMatchObject({ erasures: 1 });
    expect(view.snapshot()).toMatchObject({ sessions: 1, users: 1 });
    expect(await registry.erasedAt(['alice', 'bob'])).toEqual(
      new Map([['alice', Date.parse('2026-11-24T00:00:00.000Z')]]),
    );

    // A process started later rebuilds its view from the beginning of the log: alice's H stays out.
    const rebuilt = createKpiView();
    const again = createKpiSink({
      view: rebuilt,
      trainingExamples: H,
      deadLetter: DL,
      group: 'g2',
      erasureTopic: ER,
      registry,
    });
    const replay = [hOf('s1', 'alice'), hOf('s2', 'alice'), hOf('s3', 'bob')];
    const out = await again.apply(replay);
    expect(out?.counts).toMatchObject({ examples: 1, skipped_erased: 2 });
    expect(rebuilt.snapshot()).toMatchObject({ sessions: 1, users: 1 });
  });

  it('a bad erasure record is rejected (dead-lettered by the runtime), and the rest goes on', async () => {
    const view = createKpiView();
    const sink = createKpiSink({ view, trainingExamples: H, deadLetter: DL, group: 'g', erasureTopic: ER });
    const bad = rec(ER, Buffer.from('{"type":"user_erasure"}'));
    const res = await sink.apply([bad, hOf('s9', 'carol')]);
    expect(res?.rejected?.map((r) => r.record)).toEqual([bad]);
    expect(view.snapshot().sessions).toBe(1);
  });
});
