import { describe, expect, it } from 'vitest';
import { erasureId } from '../../../../api/routes/users.ts';
import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import { MetricsRegistry } from '../../../../common/metrics.ts';
import exampleA from '../../../../schemas/examples/a-recommend.json' with { type: 'json' };
import exampleH from '../../../../schemas/examples/h-training-example.json' with { type: 'json' };
import { DEFAULT_TOPICS, type UserErasure } from '../../../../schemas/index.ts';
import { createHashingEmbedder } from '../../../../streams/embeddings/hashing-embedder.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { withoutErased } from '../../../../streams/processors/join-input.ts';
import { createArchiveSink } from '../../../../streams/sinks/archive-sink.ts';
import { createErasureSink, recordOfUser } from '../../../../streams/sinks/erasure-sink.ts';
import { createExamplesSink } from '../../../../streams/sinks/examples-sink.ts';
import { createGoldenSink } from '../../../../streams/sinks/golden-sink.ts';
import { createIndexSink } from '../../../../streams/sinks/index-sink.ts';
import { createProfileSink } from '../../../../streams/sinks/profile-sink.ts';
import {
  createMemoryArchiveStore,
  createMemoryExampleStore,
} from '../../../../streams/stores/archive-store.ts';
import { createMemoryErasureAuditStore, mergeAudit } from '../../../../streams/stores/erasure-audit.ts';
import {
  createMemoryErasureRegistry,
  exampleStartMs,
  keepNotErased,
  userHash,
  withKnownErasures,
} from '../../../../streams/stores/erasure-registry.ts';
import { createMemoryGoldenStore } from '../../../../streams/stores/golden-store.ts';
import { createMemoryProfileStore } from '../../../../streams/stores/profile-store.ts';

const T = DEFAULT_TOPICS;
let offset = 0;
const rec = (topic: string, key: string | null, value: unknown): LogRecord => ({
  topic,
  partition: 0,
  offset: offset++,
  timestamp: 0,
  key,
  value: Buffer.from(JSON.stringify(value)),
});
const H_START = Date.parse(exampleH.recommended.ts);
/** An H of the user's session; `shiftMs` moves every time of the session later. */
const h = (user: string, session: string, shiftMs = 0) => {
  const at = (iso: string) => new Date(Date.parse(iso) + shiftMs).toISOString();
  return rec(T.trainingExamples, user, {
    ...exampleH,
    user_id: user,
    recommend_session_id: session,
    event_id: `h:${session}:1`,
    ts: at(exampleH.ts),
    recommended: { ...exampleH.recommended, ts: at(exampleH.recommended.ts) },
    paraphrases: exampleH.paraphrases.map((p) => ({ ...p, ts: at(p.ts) })),
    selection: exampleH.selection ? { ...exampleH.selection, ts: at(exampleH.selection.ts) } : null,
    consistency: 'high',
    context: { ...exampleH.context, text: `${exampleH.context.text} ${session}` },
  });
};
const erasure = (user: string, ts: string, id = 'erasure-1'): UserErasure => ({
  type: 'user_erasure',
  event_id: id,
  schema_version: 1,
  ts,
  user_id: user,
  requested_by: 'ops-console',
});
const AFTER_H = new Date(Date.parse(exampleH.ts) + 1000).toISOString();
const LATER = new Date(Date.parse(exampleH.ts) + 3600_000).toISOString();

describe('erased-users registry (pure parts and twin)', () => {
  it('keeps a salted hash, never the id, and the later erasure time', async () => {
    expect(userHash('ns', 'u1')).toMatch(/^[0-9a-f]{64}$/);
    expect(userHash('ns', 'u1')).not.toBe(userHash('other', 'u1'));
    const r = createMemoryErasureRegistry({ salt: 'ns' });
    await r.mark([{ userId: 'u1', erasedAt: 200 }]);
    await r.mark([{ userId: 'u1', erasedAt: 100 }]); // a replayed older request
    expect(await r.erasedAt(['u1', 'u2'])).toEqual(new Map([['u1', 200]]));
    expect([...r.snapshot().keys()]).toEqual([userHash('ns', 'u1')]);
    expect(await r.count()).toBe(1);
  });

  it('drops items of an erased user at or before the erasure, keeps later ones and other users', () => {
    const items = [
      { u: 'u1', t: 100 },
      { u: 'u1', t: 200 },
      { u: 'u1', t: 201 },
      { u: 'u2', t: 50 },
      { u: 'u1', t: Number.NaN },
    ];
    const out = keepNotErased(
      items,
      new Map([['u1', 200]]),
      (x) => x.u,
      (x) => x.t,
    );
    expect(out.kept).toEqual([items[2], items[3]]);
    expect(out.dropped).toBe(3);
  });

  it('answers from a lookup of a moment ago for the users it covered, and asks only about the rest', async () => {
    const registry = createMemoryErasureRegistry({ salt: 's' });
    await registry.mark([
      { userId: 'u1', erasedAt: 100 },
      { userId: 'u3', erasedAt: 300 },
    ]);
    const asked: string[][] = [];
    const counting = {
      ...registry,
      erasedAt: (ids: readonly string[]) => {
        asked.push([...ids]);
        return registry.erasedAt(ids);
      },
    };
    const known = { users: new Set(['u1', 'u2']), erased: new Map([['u1', 100]]) };
    const lookup = withKnownErasures(counting, known);
    expect(await lookup.erasedAt(['u1', 'u2'])).toEqual(new Map([['u1', 100]]));
    expect(asked).toEqual([]);
    expect(await lookup.erasedAt(['u2', 'u3', 'u4'])).toEqual(new Map([['u3', 300]]));
    expect(asked).toEqual([['u3', 'u4']]);
    expect(await lookup.count()).toBe(2);
  });

  it('dates an H by the first event of its session', () => {
    const x = JSON.parse(h('u1', 's1', 60_000).value.toString());
    expect(exampleStartMs(x)).toBe(H_START + 60_000);
    expect(exampleStartMs({ ...x, ts: '2026-01-01T00:00:00.000Z' })).toBe(
      Date.parse('2026-01-01T00:00:00.000Z'),
    );
  });

  it('the join skips erased users’ A/B/C (their offsets still commit)', () => {
    const ev = (user: string, ts: string, o: number) => ({
      topic: T.recommend,
      partition: 0,
      offset: o,
      event: { ...exampleA, user_id: user, ts } as never,
    });
    const batch = {
      records: [
        ev('u1', '2026-01-01T00:00:00.000Z', 1),
        ev('u2', '2026-01-01T00:00:00.000Z', 2),
        ev('u1', '2026-02-01T00:00:00.000Z', 3),
      ],
    };
    const out = withoutErased(batch, new Map([['u1', Date.parse('2026-01-15T00:00:00.000Z')]]));
    expect(out.dropped).toBe(1);
    expect(out.batch.records!.map((r) => r.offset)).toEqual([2, 3]);
    expect(out.batch.skipped).toEqual([{ topic: T.recommend, partition: 0, offset: 1 }]);
  });
});

describe('erasure sink (the erasure role)', () => {
  it('marks the registry before deleting, removes from every target, audits without the id, idempotently', async () => {
    const registry = createMemoryErasureRegistry({ salt: 'ns' });
    const audit = createMemoryErasureAuditStore();
    const metrics = new MetricsRegistry();
    const calls: string[] = [];
    let stored = 2;
    const sink = createErasureSink({
      registry,
      audit,
      salt: 'ns',
      topic: T.erasure,
      group: 'g',
      metrics,
      clock: () => Date.parse('2026-12-01T00:00:05.000Z'),
      targets: [
        {
          name: 'profiles',
          erase: async (u) => {
            // The registry already knows: a replay racing this delete is dropped.
            calls.push(`profiles:${(await registry.erasedAt([u])).has(u)}`);
            const n = stored;
            stored = 0;
            return n;
          },
        },
        { name: 'archive', erase: async () => ({ events: 0, dead_letters: 1 }) },
      ],
    });
    const e = erasure('alice', '2026-12-01T00:00:00.000Z');
    const bad = rec(T.erasure, 'x', { type: 'user_erasure' });
    const out = await sink.apply([rec(T.erasure, 'alice', e), bad]);
    expect(out?.rejected?.map((r) => r.record)).toEqual([bad]);
    expect(calls).toEqual(['profiles:true']);
    const a = await audit.get(e.event_id);
    expect(a).toMatchObject({
      user_hash: userHash('ns', 'alice'),
      requested_by: 'ops-console',
      applications: 1,
      removed: { profiles: 2, 'archive.events': 0, 'archive.dead_letters': 1 },
    });
    expect(JSON.stringify(a)).not.toContain('alice');
    // Applied again (a retry, a replay): nothing more removed, the first counts kept.
    await sink.apply([rec(T.erasure, 'alice', e)]);
    expect(await audit.get(e.event_id)).toMatchObject({ applications: 2, removed: { profiles: 2 } });
    expect(await metrics.render()).toMatch(/sentencify_erasures_total 2\b/);
    expect(await metrics.render()).toMatch(/sentencify_erased_records_total\{store="profiles"\} 2\b/);
  });

  it('merges audit applications: per store the larger count', () => {
    const base = {
      _id: 'e1',
      user_hash: 'h',
      requested_by: 'k',
      requested_at: new Date(0),
      applied_at: new Date(1),
      removed: { a: 3, b: 0 },
    };
    const first = mergeAudit(null, base);
    const second = mergeAudit(first, { ...base, applied_at: new Date(2), removed: { a: 0, b: 1 } });
    expect(second).toMatchObject({ applications: 2, removed: { a: 3, b: 1 } });
    expect(second.first_applied_at).toEqual(new Date(1));
    expect(second.last_applied_at).toEqual(new Date(2));
  });

  it('erasure ids: a retried request with the same Idempotency-Key gets the same id', () => {
    expect(erasureId('u1', 'k1')).toBe(erasureId('u1', 'k1'));
    expect(erasureId('u1', 'k1')).not.toBe(erasureId('u2', 'k1'));
    expect(erasureId('u1', undefined)).not.toBe(erasureId('u1', undefined));
  });

  it('recognises a user’s records on the log: events, H and dead letters with their event', () => {
    const of = recordOfUser('alice');
    expect(of(rec(T.recommend, 's', { ...exampleA, user_id: 'alice' }))).toBe(true);
    expect(of(rec(T.deadLetter, 's', { code: 'too_late', event: { user_id: 'alice' } }))).toBe(true);
    expect(of(rec(T.recommend, 's', { ...exampleA, user_id: 'bob', note: 'alice' }))).toBe(false);
    expect(of(rec(T.recommend, 's', { ...exampleA, user_id: 'alice2' }))).toBe(false);
  });
});

describe('every sink of H and the archive consult the registry', () => {
  const setup = async () => {
    const registry = createMemoryErasureRegistry({ salt: 'ns' });
    await registry.mark([{ userId: 'alice', erasedAt: Date.parse(AFTER_H) }]);
    return registry;
  };
  // alice's old session (before her erasure), bob's, and a new session of alice after it.
  const batch = () => [h('alice', 'old'), h('bob', 'b1'), h('alice', 'new', 3600_000)];

  it('profiles, training_examples, golden, index: an erased user’s older H is never applied', async () => {
    const registry = await setup();
    const embedder = createHashingEmbedder(16);
    const profiles = createMemoryProfileStore();
    await createProfileSink({ profiles, embedder, topic: T.trainingExamples, group: 'p', registry }).apply(
      batch(),
    );
    expect((await profiles.getMany(['alice', 'bob'])).map((p) => p?.sessions)).toEqual([1, 1]);

    const examples = createMemoryExampleStore();
    const ex = await createExamplesSink({ store: examples, topic: T.trainingExamples, registry }).apply(
      batch(),
    );
    expect(ex?.counts).toMatchObject({ upserts: 2, erased: 1 });
    expect(await examples.get('old')).toBeNull();

    const golden = createMemoryGoldenStore();
    const g = await createGoldenSink({ store: golden, topic: T.trainingExamples, registry }).apply(batch());
    expect(g?.counts).toMatchObject({ written: 2, erased: 1 });
    expect(await golden.get('old')).toEqual([]);

    const index = createMemoryVectorIndex({ dim: 16 });
    const i = await createIndexSink({
      index,
      embedder,
      topic: T.trainingExamples,
      group: 'i',
      registry,
    }).apply(batch());
    expect(i?.counts).toMatchObject({ erased: 1 });
    const ids = (await index.search(new Float32Array(16).fill(1), 10)).map((x) => x.id).sort();
    expect(ids).not.toContain('old');
    expect(H_START).toBeLessThan(Date.parse(AFTER_H));
  });

  it('an in-process index applies erasures itself when it reads the erasure topic', async () => {
    const registry = createMemoryErasureRegistry({ salt: 'ns' });
    const embedder = createHashingEmbedder(16);
    const index = createMemoryVectorIndex({ dim: 16 });
    const sink = createIndexSink({
      index,
      embedder,
      topic: T.trainingExamples,
      group: 'i',
      registry,
      erasureTopic: T.erasure,
    });
    expect(sink.topics).toEqual([T.trainingExamples, T.erasure]);
    await sink.apply([h('alice', 'old'), h('bob', 'b1')]);
    const count = async () => (await index.search(new Float32Array(16).fill(1), 10)).length;
    const before = await count();
    const out = await sink.apply([rec(T.erasure, 'alice', erasure('alice', AFTER_H))]);
    expect(out?.counts).toMatchObject({ erased_points: 1 });
    expect(await count()).toBe(before - 1);
    // A replay of alice's H (the index rebuilt from the beginning of H) does not bring her back.
    await sink.apply([h('alice', 'old')]);
    expect(await count()).toBe(before - 1);
  });

  it('the archive drops an erased user’s events and dead letters from before the erasure', async () => {
    const registry = await setup();
    const store = createMemoryArchiveStore();
    const sink = createArchiveSink({ store, topics: T, registry });
    const ev = (user: string, id: string, ts: string) =>
      rec(T.recommend, `s-${id}`, {
        ...exampleA,
        event_id: id,
        user_id: user,
        recommend_session_id: `s-${id}`,
        ts,
      });
    const out = await sink.apply([
      ev('alice', 'a1', exampleH.ts),
      ev('bob', 'b1', exampleH.ts),
      ev('alice', 'a2', LATER),
    ]);
    expect(out?.counts).toMatchObject({ archived: 2, erased: 1 });
    expect((await store.eventsOfUser('alice')).map((e) => e._id)).toEqual(['a2']);
  });
});
