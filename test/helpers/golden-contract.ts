import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type TrainingExample, trainingExampleSchema } from '../../schemas/index.ts';
import { type GoldenWrite, goldenWrite } from '../../streams/sinks/golden-document.ts';
import type { GoldenStore } from '../../streams/stores/golden-store.ts';

const SAMPLE = trainingExampleSchema.parse(
  JSON.parse(
    readFileSync(join(import.meta.dirname, '../../schemas/examples/h-training-example.json'), 'utf8'),
  ),
);

/**
 * A training example for session `id` at `revision`, its events shifted to start at `startIso`
 * (A at +0, B at +4.25 s, C at +19.9 s, as in the sample).
 */
export function sampleExample(
  id: string,
  revision = 1,
  o: { startIso?: string; patch?: Partial<TrainingExample> } = {},
): TrainingExample {
  const start = Date.parse(o.startIso ?? '2026-11-23T09:15:00.000Z');
  const at = (ms: number) => new Date(start + ms).toISOString();
  const h = structuredClone(SAMPLE);
  h.recommend_session_id = id;
  h.revision = revision;
  h.event_id = `h:${id}:${revision}`;
  h.recommended!.ts = at(0);
  h.paraphrases[0]!.ts = at(4250);
  h.selection!.ts = at(19_900);
  h.ts = at(19_900);
  return { ...h, ...o.patch };
}

export const sampleWrite = (id: string, revision = 1, o: Parameters<typeof sampleExample>[2] = {}) =>
  goldenWrite(sampleExample(id, revision, o));

/**
 * The same contract for every GoldenStore (CONVENTIONS #5): the in-memory twin in the unit tier,
 * Elasticsearch in the integration tier. `make` returns a store on a fresh prefix.
 */
export function goldenContract(name: string, make: () => Promise<GoldenStore>) {
  describe(`${name} golden store`, () => {
    let store: GoldenStore | undefined;
    afterEach(async () => {
      await store?.drop();
      await store?.close();
      store = undefined;
    });
    const setup = async () => {
      store = await make();
      await store.ensureTemplate();
      return store;
    };

    it('writes one document per session into the daily index of its first event', async () => {
      const s = await setup();
      const res = await s.write([
        sampleWrite('s1'),
        sampleWrite('s2', 1, { startIso: '2026-11-24T23:00:00.000Z' }),
      ]);
      expect(res).toEqual({ written: 2, stale: 0, rejected: [] });
      await s.refresh();
      const [c1] = await s.get('s1');
      expect(c1!.index).toBe(`${s.prefix}2026.11.23`);
      expect(c1!.version).toBe(1);
      expect(c1!.doc).toEqual(sampleWrite('s1').doc);
      expect((await s.get('s2'))[0]!.index).toBe(`${s.prefix}2026.11.24`);
      expect(await s.get('nobody')).toEqual([]);
      expect(await s.count()).toBe(2);
    });

    it('never lets a replay or an older revision overwrite a newer one, and counts them stale', async () => {
      const s = await setup();
      const newer = sampleWrite('s1', 3, { patch: { outcome: 'rejected' } });
      expect((await s.write([newer])).written).toBe(1);
      const res = await s.write([sampleWrite('s1', 2), newer, sampleWrite('s1', 1)]);
      expect(res).toEqual({ written: 0, stale: 3, rejected: [] });
      expect((await s.write([sampleWrite('s1', 4)])).written).toBe(1);
      await s.refresh();
      const copies = await s.get('s1');
      expect(copies).toHaveLength(1);
      expect(copies[0]!.version).toBe(4);
      expect(copies[0]!.doc.outcome).toBe('accepted');
    });

    it('refuses a field the strict mapping lacks and a value of the wrong type, with the reason, writing the rest', async () => {
      const s = await setup();
      const ok = sampleWrite('s1');
      const extra: GoldenWrite = {
        ...sampleWrite('s2'),
        doc: { ...sampleWrite('s2').doc, surprise: 1 } as never,
      };
      const wrong: GoldenWrite = {
        ...sampleWrite('s3'),
        doc: { ...sampleWrite('s3').doc, revision: 'three' } as never,
      };
      const res = await s.write([extra, ok, wrong]);
      expect(res.written).toBe(1);
      expect(res.stale).toBe(0);
      expect(res.rejected.map((r) => r.at)).toEqual([0, 2]);
      expect(res.rejected[0]!.reason).toMatch(/strict_dynamic_mapping_exception.*surprise/);
      expect(res.rejected[1]!.reason).toMatch(/pars.*revision/);
      await s.refresh();
      expect(await s.count()).toBe(1);
    });

    it('keeps one document when a later revision moves the session to an earlier day', async () => {
      const s = await setup();
      // Revision 1 lacked A: its first event (B) is after midnight. Revision 2 has A before midnight.
      const first = sampleExample('s1', 1, { startIso: '2026-11-23T23:59:58.000Z' });
      const r1 = goldenWrite({ ...first, recommended: null, funnel: 'BC' });
      const r2 = goldenWrite(sampleExample('s1', 2, { startIso: '2026-11-23T23:59:58.000Z' }));
      expect(r1.day).toBe('2026.11.24');
      expect(r2.day).toBe('2026.11.23');
      expect(r2.otherDays).toEqual(['2026.11.24']);
      expect((await s.write([r1])).written).toBe(1);
      expect((await s.write([r2])).written).toBe(1);
      await s.refresh();
      const copies = await s.get('s1');
      expect(copies.map((c) => [c.index, c.version])).toEqual([[`${s.prefix}2026.11.23`, 2]]);
      expect(await s.count()).toBe(1);
    });

    it('erases a user across the daily indices, also what was written a moment ago', async () => {
      const s = await setup();
      const other = (id: string) => sampleWrite(id, 1, { patch: { user_id: 'someone-else' } });
      await s.write([
        sampleWrite('e1'),
        sampleWrite('e2', 1, { startIso: '2026-11-24T23:00:00.000Z' }),
        other('e3'),
      ]);
      const user = sampleWrite('e1').doc.user_id;
      // No refresh before: the erasure must find documents not yet searchable.
      expect(await s.eraseUser!(user)).toBe(2);
      await s.refresh();
      expect(await s.get('e1')).toEqual([]);
      expect(await s.get('e2')).toEqual([]);
      expect((await s.get('e3')).length).toBe(1);
      expect(await s.eraseUser!(user)).toBe(0);
    });

    it('writes an empty batch as nothing', async () => {
      const s = await setup();
      expect(await s.write([])).toEqual({ written: 0, stale: 0, rejected: [] });
    });
  });
}
