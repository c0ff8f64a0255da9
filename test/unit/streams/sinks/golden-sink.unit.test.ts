import { describe, expect, it } from 'vitest';
import type { TrainingExample } from '../../../../schemas/index.ts';
import { encodeExample } from '../../../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { createGoldenSink } from '../../../../streams/sinks/golden-sink.ts';
import { SinkError } from '../../../../streams/sinks/sink.ts';
import { createMemoryGoldenStore, type GoldenStore } from '../../../../streams/stores/golden-store.ts';
import { sampleExample } from '../../../helpers/golden-contract.ts';

let offset = 0;
function rec(h: TrainingExample | Buffer): LogRecord {
  const m = Buffer.isBuffer(h) ? { key: 'u', value: h } : encodeExample(h);
  return { ...m, topic: 'sentencify.training-examples', partition: 0, offset: offset++, timestamp: 0 };
}

const setup = () => {
  const store = createMemoryGoldenStore();
  return { store, sink: createGoldenSink({ store, topic: 'sentencify.training-examples' }) };
};

describe('golden sink', () => {
  it('is a sink of H with its own group and a 500 / 200 ms batch', () => {
    const { sink } = setup();
    expect(sink).toMatchObject({
      name: 'golden',
      group: 'sentencify-golden',
      topics: ['sentencify.training-examples'],
      batch: { size: 500, maxWaitMs: 200 },
    });
  });

  it('writes one document per session at its latest revision; a replayed batch changes nothing', async () => {
    const { store, sink } = setup();
    const batch = [
      rec(sampleExample('s1', 1)),
      rec(sampleExample('s2', 1)),
      rec(sampleExample('s1', 2, { patch: { outcome: 'edited' } })),
    ];
    const first = await sink.apply(batch);
    expect(first).toEqual({ rejected: [], counts: { written: 2, stale: 1, rejected: 0 } });
    const before = structuredClone([...store.snapshot()]);
    const again = await sink.apply(batch);
    expect(again!.counts).toEqual({ written: 0, stale: 3, rejected: 0 });
    expect([...store.snapshot()]).toEqual(before);
    const [s1] = await store.get('s1');
    expect(s1).toMatchObject({ version: 2, doc: { outcome: 'edited', edited: true } });
    expect(await store.count()).toBe(2);
  });

  it('counts an older revision arriving after a newer one as stale and keeps the newer', async () => {
    const { store, sink } = setup();
    await sink.apply([rec(sampleExample('s1', 3))]);
    const res = await sink.apply([rec(sampleExample('s1', 2, { patch: { outcome: 'rejected' } }))]);
    expect(res!.counts).toMatchObject({ written: 0, stale: 1 });
    expect((await store.get('s1'))[0]!.version).toBe(3);
    expect((await store.get('s1'))[0]!.doc.outcome).toBe('accepted');
  });

  it('rejects undecodable H with the reason and writes the rest of the batch', async () => {
    const { store, sink } = setup();
    const bad = rec(Buffer.from('{not json'));
    const invalid = rec(Buffer.from(JSON.stringify({ type: 'training_example', revision: 0 })));
    const res = await sink.apply([bad, rec(sampleExample('s1')), invalid]);
    expect(res!.rejected!.map((r) => r.record)).toEqual([bad, invalid]);
    expect(res!.rejected![0]!.reason).toMatch(/undecodable H \(malformed_json\)/);
    expect(res!.rejected![1]!.reason).toMatch(/undecodable H \(schema_invalid\)/);
    expect(res!.counts).toMatchObject({ written: 1, rejected: 2 });
    expect(await store.count()).toBe(1);
  });

  it('returns the documents the store refused with its reason, paired with their records', async () => {
    const inner = createMemoryGoldenStore();
    const store: GoldenStore = {
      ...inner,
      write: async (ws) => {
        const r = await inner.write(ws);
        return {
          ...r,
          written: r.written - 1,
          rejected: [{ at: 1, reason: 'strict_dynamic_mapping_exception: x' }],
        };
      },
    };
    const sink = createGoldenSink({ store, topic: 't' });
    const r2 = rec(sampleExample('s2'));
    const res = await sink.apply([rec(sampleExample('s1')), r2]);
    expect(res!.rejected).toEqual([
      { record: r2, reason: 'the golden store refused the document: strict_dynamic_mapping_exception: x' },
    ]);
  });

  it('lets a retriable store failure through for the runtime to back off on, and creates the template first', async () => {
    const calls: string[] = [];
    const inner = createMemoryGoldenStore();
    let fail = true;
    const store: GoldenStore = {
      ...inner,
      ensureTemplate: async () => {
        calls.push('template');
      },
      write: async (ws) => {
        calls.push('write');
        if (fail) throw new SinkError('es_unreachable', 'connection refused', { retriable: true });
        return inner.write(ws);
      },
    };
    const sink = createGoldenSink({ store, topic: 't' });
    const batch = [rec(sampleExample('s1'))];
    await expect(sink.apply(batch)).rejects.toMatchObject({ retriable: true, code: 'es_unreachable' });
    fail = false;
    expect((await sink.apply(batch))!.counts).toMatchObject({ written: 1 });
    expect(calls).toEqual(['template', 'write', 'write']);
  });

  it('writes a large batch in two parts split by key, so the revisions of a session are decided in one', async () => {
    const inner = createMemoryGoldenStore();
    const sizes: number[] = [];
    const store: GoldenStore = {
      ...inner,
      write: async (ws) => {
        sizes.push(ws.length);
        return inner.write(ws);
      },
    };
    const sink = createGoldenSink({ store, topic: 't' });
    const user = (i: number) => ({ patch: { user_id: `u${i}` } });
    const batch = [
      rec(sampleExample('same', 2, { patch: { user_id: 'u-same', outcome: 'edited' } })),
      ...Array.from({ length: 298 }, (_, i) => rec(sampleExample(`s${i}`, 1, user(i)))),
      rec(sampleExample('same', 1, { patch: { user_id: 'u-same' } })),
    ];
    const res = await sink.apply(batch);
    expect(sizes).toHaveLength(2);
    expect(sizes[0]! + sizes[1]!).toBe(299);
    expect(Math.min(...sizes)).toBeGreaterThan(100);
    expect(res!.counts).toEqual({ written: 299, stale: 1, rejected: 0 });
    expect((await inner.get('same'))[0]).toMatchObject({ version: 2, doc: { outcome: 'edited' } });
  });

  it("waits for every part before throwing a part's failure", async () => {
    const inner = createMemoryGoldenStore();
    let calls = 0;
    const store: GoldenStore = {
      ...inner,
      write: async (ws) => {
        if (++calls === 1) throw new SinkError('es_pushback', '429', { retriable: true });
        await new Promise((r) => setTimeout(r, 20));
        return inner.write(ws);
      },
    };
    const sink = createGoldenSink({ store, topic: 't' });
    const batch = Array.from({ length: 200 }, (_, i) =>
      rec(sampleExample(`s${i}`, 1, { patch: { user_id: `u${i}` } })),
    );
    await expect(sink.apply(batch)).rejects.toMatchObject({ code: 'es_pushback' });
    // the second part finished before apply failed
    expect(await inner.count()).toBeGreaterThan(0);
    expect(await inner.count()).toBeLessThan(200);
  });
});
