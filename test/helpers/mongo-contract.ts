import { afterEach, describe, expect, it } from 'vitest';
import exampleH from '../../schemas/examples/h-training-example.json' with { type: 'json' };
import type { CorporateRow, TrainingExample } from '../../schemas/index.ts';
import type {
  ArchivedDeadLetter,
  ArchivedEvent,
  ArchiveStore,
  CorporateStore,
  ExampleStore,
} from '../../streams/stores/archive-store.ts';
import { deadLetterId } from '../../streams/stores/archive-store.ts';

export function archivedEvent(id: string, over: Partial<ArchivedEvent> = {}): ArchivedEvent {
  const ts = over.ts ?? new Date(Date.UTC(2026, 0, 1, 0, 0, Number(id.replace(/\D/g, '') || 0)));
  return {
    _id: id,
    type: 'recommend',
    user_id: 'u1',
    recommend_session_id: 's1',
    ts,
    origin: { topic: 'sentencify.a', partition: 0, offset: 0 },
    event: { event_id: id, type: 'recommend', ts: ts.toISOString() },
    ...over,
  };
}

export function archivedDeadLetter(offset: number, code = 'too_late', at = offset): ArchivedDeadLetter {
  const origin = { topic: 'sentencify.c', partition: 1, offset };
  return {
    _id: deadLetterId({ code, origin }),
    code,
    reason: `late by ${offset} s`,
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, at)),
    origin,
    event_id: `evt-${offset}`,
    recommend_session_id: 's1',
  };
}

export function example(session: string, revision: number, user = 'u1'): TrainingExample {
  return {
    ...(exampleH as unknown as TrainingExample),
    event_id: `h:${session}:${revision}`,
    recommend_session_id: session,
    user_id: user,
    revision,
  };
}

export function corporateRow(i: number): CorporateRow {
  return {
    user_id: `corp-u-${i % 7}`,
    ts: `2025-03-14T02:41:${String(i % 60).padStart(2, '0')}Z`,
    category: 'email',
    intensity: 'moderate',
    user_prompt: '',
    accepted: i % 2 === 0,
    text: `sentence ${i}`,
    language: 'ko',
    company: 'acme',
  } as CorporateRow;
}

export interface MongoContractPorts {
  readonly archive: ArchiveStore;
  readonly examples: ExampleStore;
  readonly corporate: CorporateStore;
  readonly cleanup?: () => Promise<void>;
}

/**
 * The same contract for the in-memory twins and the MongoDB adapters (CONVENTIONS #5): what a
 * replay, a stale revision, a refused document and a re-run load must do. It asserts only what a
 * real MongoDB does, not what one compatible server happens to do.
 */
export function mongoContract(name: string, make: () => Promise<MongoContractPorts>) {
  describe(`${name} MongoDB ports`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
    const setup = async () => {
      const s = await make();
      cleanup = s.cleanup;
      return s;
    };

    it('archives events once: a replayed batch counts duplicates and changes nothing', async () => {
      const { archive } = await setup();
      const first = await archive.insertEvents([archivedEvent('e1'), archivedEvent('e2')]);
      expect(first).toEqual({ inserted: 2, duplicates: 0, rejected: [] });
      const replay = await archive.insertEvents([
        archivedEvent('e1'),
        archivedEvent('e3', { recommend_session_id: 's2' }),
        archivedEvent('e2'),
      ]);
      expect(replay).toEqual({ inserted: 1, duplicates: 2, rejected: [] });
      expect(await archive.countEvents()).toBe(3);
    });

    it('answers a user’s and a session’s events in time order, with the whole event', async () => {
      const { archive } = await setup();
      await archive.insertEvents([
        archivedEvent('e3', { type: 'selection' }),
        archivedEvent('e1'),
        archivedEvent('e2', { type: 'paraphrase', recommend_session_id: 's2' }),
        archivedEvent('e4', { user_id: 'u2', recommend_session_id: 's3' }),
      ]);
      const mine = await archive.eventsOfUser('u1');
      expect(mine.map((e) => e._id)).toEqual(['e1', 'e2', 'e3']);
      expect(mine[0]!.ts).toBeInstanceOf(Date);
      expect(mine[0]!.event).toEqual(archivedEvent('e1').event);
      expect((await archive.eventsOfSession('s1')).map((e) => e._id)).toEqual(['e1', 'e3']);
      expect(await archive.eventsOfUser('nobody')).toEqual([]);
    });

    it('erases a user: events, dead letters of their events and sessions, training examples; others stay', async () => {
      const { archive, examples } = await setup();
      await archive.insertEvents([
        archivedEvent('e1'),
        archivedEvent('e2', { recommend_session_id: 's2' }),
        archivedEvent('e3', { user_id: 'u2', recommend_session_id: 's3' }),
      ]);
      const byEvent = {
        ...archivedDeadLetter(1),
        recommend_session_id: 'other',
        event: { user_id: 'u1', ts: 'x' },
      };
      const bySession = { ...archivedDeadLetter(2), recommend_session_id: 's2' };
      const foreign = { ...archivedDeadLetter(3), recommend_session_id: 's3', event: { user_id: 'u2' } };
      await archive.insertDeadLetters([byEvent, bySession, foreign]);
      await examples.upsertLatest([example('s1', 1), example('s2', 2), example('s3', 1, 'u2')]);
      expect(await archive.eraseUser!('u1')).toEqual({ events: 2, dead_letters: 2 });
      expect(await examples.eraseUser!('u1')).toBe(2);
      expect(await archive.eventsOfUser('u1')).toEqual([]);
      expect((await archive.eventsOfUser('u2')).map((e) => e._id)).toEqual(['e3']);
      expect(await archive.countDeadLetters()).toBe(1);
      expect(await examples.get('s1')).toBeNull();
      expect((await examples.get('s3'))?.user_id).toBe('u2');
      expect(await archive.eraseUser!('u1')).toEqual({ events: 0, dead_letters: 0 });
      expect(await examples.eraseUser!('u1')).toBe(0);
    });

    it('rejects, with a reason, documents MongoDB would refuse, and still writes the rest', async () => {
      const { archive } = await setup();
      const big = archivedEvent('big', { event: { blob: 'x'.repeat(16 * 1024 * 1024 + 10) } });
      const dollar = archivedEvent('dollar', { event: { context: { $where: 'x' } } });
      const nul = archivedEvent('nul', { event: { 'a\u0000b': 1 } });
      const out = await archive.insertEvents([archivedEvent('ok1'), big, dollar, nul, archivedEvent('ok2')]);
      expect(out.inserted).toBe(2);
      expect(out.duplicates).toBe(0);
      expect(out.rejected.map((r) => r.index)).toEqual([1, 2, 3]);
      expect(out.rejected[0]!.reason).toMatch(/over MongoDB's .*16 MB/);
      expect(out.rejected[1]!.reason).toMatch(/event\.context\.\$where.*"\$"/);
      expect(out.rejected[2]!.reason).toMatch(/NUL/);
      expect(await archive.countEvents()).toBe(2);
    });

    it('keeps dead letters in their own collection, idempotent, newest first per code', async () => {
      const { archive } = await setup();
      expect(await archive.insertDeadLetters([archivedDeadLetter(1), archivedDeadLetter(2)])).toEqual({
        inserted: 2,
        duplicates: 0,
        rejected: [],
      });
      const again = await archive.insertDeadLetters([
        archivedDeadLetter(2),
        archivedDeadLetter(3, 'schema_invalid'),
      ]);
      expect(again).toEqual({ inserted: 1, duplicates: 1, rejected: [] });
      expect(await archive.countDeadLetters()).toBe(3);
      expect(await archive.countEvents()).toBe(0);
      const late = await archive.deadLettersByCode('too_late');
      expect(late.map((d) => d.origin.offset)).toEqual([2, 1]);
      expect(late[0]!.reason).toBe('late by 2 s');
    });

    it('keeps the latest revision of each session: older revisions and replays never win', async () => {
      const { examples } = await setup();
      expect(await examples.upsertLatest([example('s1', 2), example('s2', 1)])).toEqual({
        upserted: 2,
        stale: 0,
        rejected: [],
      });
      // An older revision of s1 before a newer one of s2, in one batch: the stale one must not
      // stop the newer one from being written.
      expect(await examples.upsertLatest([example('s1', 1), example('s2', 3)])).toEqual({
        upserted: 1,
        stale: 1,
        rejected: [],
      });
      expect(await examples.upsertLatest([example('s1', 2)])).toEqual({
        upserted: 0,
        stale: 1,
        rejected: [],
      });
      expect((await examples.get('s1'))!.revision).toBe(2);
      expect((await examples.get('s2'))!.revision).toBe(3);
      expect(await examples.upsertLatest([example('s1', 5)])).toEqual({
        upserted: 1,
        stale: 0,
        rejected: [],
      });
      expect(await examples.get('s1')).toEqual(example('s1', 5));
      expect(await examples.get('nope')).toBeNull();
      expect(await examples.count()).toBe(2);
    });

    it('takes the newest of several revisions of one session in a batch, in any order', async () => {
      const { examples } = await setup();
      const out = await examples.upsertLatest([example('s9', 2), example('s9', 4), example('s9', 3)]);
      expect(out).toEqual({ upserted: 1, stale: 2, rejected: [] });
      expect((await examples.get('s9'))!.revision).toBe(4);
    });

    it('loads D rows idempotently and reads them back', async () => {
      const { corporate } = await setup();
      const rows = Array.from({ length: 25 }, (_, i) => corporateRow(i));
      expect(await corporate.insertRows(rows)).toEqual({ inserted: 25, existing: 0 });
      expect(await corporate.insertRows([...rows.slice(20), corporateRow(100)])).toEqual({
        inserted: 1,
        existing: 5,
      });
      expect(await corporate.count()).toBe(26);
      const back: CorporateRow[] = [];
      for await (const page of corporate.scan(7)) {
        expect(page.length).toBeLessThanOrEqual(7);
        back.push(...page);
      }
      const key = (r: CorporateRow) => r.text ?? '';
      expect(back.map(key).sort()).toEqual([...rows, corporateRow(100)].map(key).sort());
      const first = back.find((r) => r.text === 'sentence 3')!;
      expect(first).toEqual({ ...corporateRow(3), ts: '2025-03-14T02:41:03.000Z' });
    });
  });
}
