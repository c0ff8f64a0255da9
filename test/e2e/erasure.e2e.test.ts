import { describe, expect, it } from 'vitest';
import { createEmbeddedWheel } from '../../app/embedded-wheel.ts';
import { recordOfUser } from '../../streams/sinks/erasure-sink.ts';
import { userHash } from '../../streams/stores/erasure-registry.ts';
import { topicSpecs } from '../../streams/topology-config.ts';
import { session } from '../helpers/api-harness.ts';

const USERS = ['alice', 'bob', 'carol'];
const TEXTS = ['Please send the report.', 'Can we meet tomorrow?', 'Thanks for the update.'];

async function wheelWithTraffic(users: readonly string[] = USERS) {
  let n = 0;
  const wheel = await createEmbeddedWheel({
    startMs: Date.parse('2026-03-02T09:00:00Z'),
    embeddingDim: 64,
    clusters: 2,
    scoring: { epsilon: 0 },
    newId: () => `id-${++n}`,
  });
  const post = async (path: string, body: unknown) => {
    const res = await wheel.app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const h = { post, advance: wheel.advance };
  const sessions = new Map<string, string[]>(users.map((u) => [u, []]));
  for (let round = 0; round < 3; round++)
    for (const u of users) {
      const s = await session(h as never, u, TEXTS[round]!, { category: 'email', intensity: 'moderate' });
      sessions.get(u)!.push(s.sid);
    }
  await wheel.settle();
  return { wheel, sessions };
}

type Wheel = Awaited<ReturnType<typeof wheelWithTraffic>>['wheel'];

/** Everything each store holds of a user, counted. */
async function holdings(wheel: Wheel, user: string, sessionIds: readonly string[]) {
  const topics = topicSpecs(wheel.config)
    .map((s) => s.topic)
    .filter((t) => t !== wheel.config.topics.erasure);
  const ofUser = recordOfUser(user);
  let golden = 0;
  for (const index of wheel.golden.snapshot().values())
    for (const s of index.values()) if (s.doc.user_id === user) golden++;
  let examples = 0;
  for (const sid of sessionIds) if (await wheel.examples.get(sid)) examples++;
  const hits = await wheel.index.search(await wheel.embedder.embed([TEXTS[0]!]).then((v) => v[0]!), 10_000);
  return {
    profile: (await wheel.profiles.getMany([user]))[0] ? 1 : 0,
    cluster: (await wheel.clusters.clusterOf([user]))[0] === null ? 0 : 1,
    events: (await wheel.archive.eventsOfUser(user)).length,
    examples,
    golden,
    index: hits.filter((x) => x.payload.user_id === user).length,
    log: topics.reduce((k, t) => k + wheel.log.read(t).filter(ofUser).length, 0),
    // The choices /paraphrase recorded in the user's document (session() writes to doc-<user>).
    docs: Object.values(await wheel.docs.history(`doc-${user}`)).reduce((a, b) => a + b, 0),
  };
}

const NOTHING = { profile: 0, cluster: 0, events: 0, examples: 0, golden: 0, index: 0, log: 0, docs: 0 };

describe('erasure on the embedded wheel (npm start)', () => {
  it('DELETE /users/:id removes the user from every store and the log, a replay of the raw events does not bring them back, and the audit names no one', async () => {
    const { wheel, sessions } = await wheelWithTraffic();
    const before = await holdings(wheel, 'alice', sessions.get('alice')!);
    expect(before.profile).toBe(1);
    expect(before.cluster).toBe(1);
    expect(before.events).toBe(9);
    expect(before.examples).toBe(3);
    expect(before.golden).toBe(3);
    expect(before.index).toBeGreaterThan(0);
    expect(before.log).toBeGreaterThanOrEqual(12);
    expect(before.docs).toBe(3);
    const bobBefore = await holdings(wheel, 'bob', sessions.get('bob')!);
    const kpisBefore = wheel.kpis.snapshot();
    // The raw records of alice, to play a replay from an older position with later.
    const raw = [
      wheel.config.topics.recommend,
      wheel.config.topics.paraphrase,
      wheel.config.topics.selection,
    ].flatMap((t) => wheel.log.read(t).filter(recordOfUser('alice')));
    // A session of alice still open in the join when the erasure comes.
    const open = await wheel.app.request('/recommend', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'alice', text: 'One more thing.' }),
    });
    expect(open.status).toBe(200);

    const res = await wheel.app.request('/users/alice', { method: 'DELETE' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { erasure_id: string; requested_by: string };
    expect(body.erasure_id).toMatch(/^erasure-/);
    expect(body.requested_by).toBe('open');
    await wheel.settle();

    expect(await holdings(wheel, 'alice', sessions.get('alice')!)).toEqual(NOTHING);
    const bobAfter = await holdings(wheel, 'bob', sessions.get('bob')!);
    expect(bobAfter).toEqual(bobBefore);
    expect(bobAfter.profile + bobAfter.events + bobAfter.golden).toBeGreaterThan(0);
    // The dashboard's in-process KPI view forgot alice too: one user and her 3 sessions fewer.
    const kpisAfter = wheel.kpis.snapshot();
    expect(kpisAfter.users).toBe(kpisBefore.users - 1);
    expect(kpisAfter.sessions).toBe(kpisBefore.sessions - before.examples);

    const audit = await wheel.erasureAudit.get(body.erasure_id);
    expect(audit).not.toBeNull();
    expect(audit!.user_hash).toBe(userHash('sentencify', 'alice'));
    expect(audit!.requested_by).toBe('open');
    expect(audit!.removed.profiles).toBe(1);
    expect(audit!.removed['archive.events']).toBe(9);
    expect(audit!.removed.training_examples).toBe(3);
    expect(audit!.removed.golden).toBe(3);
    expect(audit!.removed.log).toBeGreaterThanOrEqual(12);
    expect(audit!.removed.docs).toBe(3);
    expect(JSON.stringify(audit)).not.toContain('alice');
    expect(await wheel.metrics.render()).toMatch(/sentencify_erasures_total 1\b/);

    // A replay: alice's raw A/B/C published again (as Kafka still holds them until retention).
    for (const r of raw) wheel.log.appendSync(r.topic, [{ key: r.key, value: r.value, headers: r.headers }]);
    await wheel.settle();
    expect(await holdings(wheel, 'alice', sessions.get('alice')!)).toEqual({ ...NOTHING, log: raw.length });
    expect(await wheel.archive.eventsOfUser('alice')).toEqual([]);

    // Asked again: accepted, nothing more to remove.
    const again = await wheel.app.request('/users/alice', { method: 'DELETE' });
    expect(again.status).toBe(202);
    await wheel.settle();
    const second = await wheel.erasureAudit.get(((await again.json()) as { erasure_id: string }).erasure_id);
    expect(second!.removed.profiles).toBe(0);
    expect(second!.removed['archive.events']).toBe(0);
    expect(second!.removed.docs).toBe(0);
    // ...and alice may come back as a new user after her erasure.
    wheel.advance(60_000);
    const back = await session(
      {
        post: async (p: string, b: unknown) => {
          const r = await wheel.app.request(p, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(b),
          });
          return { status: r.status, body: (await r.json()) as Record<string, unknown> };
        },
        advance: wheel.advance,
      } as never,
      'alice',
      'Hello again.',
      { category: 'email', intensity: 'moderate' },
    );
    await wheel.settle();
    expect((await wheel.archive.eventsOfUser('alice')).map((e) => e.recommend_session_id)).toEqual([
      back.sid,
      back.sid,
      back.sid,
    ]);
  }, 120_000);

  it('erases a user named in another Unicode spelling of the same id (ids are NFC, as the API stores them)', async () => {
    const nfd = 'jose\u0301'; // "josé" with a combining accent, as an editor might send it
    const nfc = nfd.normalize('NFC');
    const { wheel, sessions } = await wheelWithTraffic(['bob', nfd]);
    const before = await holdings(wheel, nfc, sessions.get(nfd)!);
    expect(before.profile).toBe(1);
    expect(before.events).toBe(9);
    const res = await wheel.app.request(`/users/${encodeURIComponent(nfd)}`, { method: 'DELETE' });
    expect(res.status).toBe(202);
    await wheel.settle();
    expect(await holdings(wheel, nfc, sessions.get(nfd)!)).toEqual(NOTHING);
    expect((await holdings(wheel, 'bob', sessions.get('bob')!)).profile).toBe(1);
  }, 120_000);

  it('refuses a user id it cannot take', async () => {
    const { wheel } = await wheelWithTraffic();
    const res = await wheel.app.request(`/users/${'x'.repeat(201)}`, { method: 'DELETE' });
    expect(res.status).toBe(400);
  }, 60_000);
});
