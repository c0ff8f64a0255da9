import { describe, expect, it } from 'vitest';
import { createApi } from '../../../../api/app.ts';
import type { EventSink } from '../../../../api/event-sink.ts';
import { createAbRouter } from '../../../../api/paraphrase/ab-router.ts';
import { createOfflineParaphraser } from '../../../../api/paraphrase/offline-paraphraser.ts';
import type { Paraphraser } from '../../../../api/paraphrase/paraphraser.ts';
import { DEFAULT_SCORING_CONFIG } from '../../../../api/scoring/index.ts';
import { createMemoryIdempotencyStore } from '../../../../api/sessions/idempotency-store.ts';
import { decodeAsOf } from '../../../../api/sessions/read-your-writes.ts';
import { idempotentEventId, newSessionId } from '../../../../api/sessions/session-id.ts';
import { createMemorySessionRegistry } from '../../../../api/sessions/session-registry.ts';
import { createMemoryVectorIndex } from '../../../../api/vector/memory-vector-index.ts';
import { MetricsRegistry } from '../../../../common/metrics.ts';
import { DEFAULT_VOCABULARY, type SessionEvent, type UserProfile } from '../../../../schemas/index.ts';
import { createHashingEmbedder } from '../../../../streams/embeddings/hashing-embedder.ts';
import { emptyProfile } from '../../../../streams/reducers/evolve-profile.ts';
import { createMemoryDocStore } from '../../../../streams/stores/doc-store.ts';
import {
  createMemoryClusterStore,
  createMemoryProfileStore,
} from '../../../../streams/stores/profile-store.ts';

/** The API on in-memory twins, with the emitted events in a list and the sleep of read-your-writes stood in. */
function bareApi(
  o: {
    failEmits?: () => boolean;
    onSleep?: (n: number) => Promise<void>;
    paraphraser?: Paraphraser;
    /** The idempotency store's complete() fails while this says so (the answer is never stored). */
    failComplete?: () => boolean;
    /** Awaited before an event is recorded (a slow send of that event). */
    beforeEmit?: (e: SessionEvent) => Promise<void> | undefined;
  } = {},
) {
  const events: SessionEvent[] = [];
  const sink: EventSink = {
    emit: async (e) => {
      if (o.failEmits?.()) throw new Error('broker away');
      await o.beforeEmit?.(e);
      events.push(e);
    },
  };
  let now = Date.parse('2026-03-02T09:00:00Z');
  const clock = () => now;
  const profiles = createMemoryProfileStore();
  let reads = 0;
  let sleeps = 0;
  const idempotency = createMemoryIdempotencyStore({ clock });
  const counted = {
    ...profiles,
    getMany: (ids: readonly string[]) => {
      reads++;
      return profiles.getMany(ids);
    },
  };
  const app = createApi({
    events: sink,
    profiles: counted,
    clusters: createMemoryClusterStore(),
    index: createMemoryVectorIndex({ dim: 64 }),
    embedder: createHashingEmbedder(64),
    router: createAbRouter({ a: o.paraphraser ?? createOfflineParaphraser(), salt: 't' }),
    docs: createMemoryDocStore(),
    vocabulary: DEFAULT_VOCABULARY,
    scoring: { ...DEFAULT_SCORING_CONFIG, epsilon: 0 },
    personalised: true,
    metrics: new MetricsRegistry(),
    clock,
    erasures: { publish: async () => {} },
    sessions: {
      registry: createMemorySessionRegistry({ clock }),
      idempotency: {
        ...idempotency,
        complete: async (...args) => {
          if (o.failComplete?.()) throw new Error('store away');
          return idempotency.complete(...args);
        },
      },
      readYourWrites: {
        maxWaitMs: 200,
        pollMs: 20,
        sleep: async () => {
          sleeps++;
          await o.onSleep?.(sleeps);
        },
      },
    },
  });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const ofType = (t: SessionEvent['type']) => events.filter((e) => e.type === t);
  return {
    app,
    post,
    events,
    ofType,
    profiles,
    advance: (ms: number) => {
      now += ms;
    },
    stats: () => ({ reads, sleeps }),
  };
}

const para = (sid: unknown, user = 'alice') => ({
  recommend_session_id: sid,
  user_id: user,
  text: 'Please send the report.',
  category: 'email',
  intensity: 'strong',
});

async function opened(api: ReturnType<typeof bareApi>, user = 'alice') {
  const rec = await api.post('/recommend', { user_id: user, text: 'Please send the report.' });
  expect(rec.status).toBe(200);
  return String(rec.body.recommend_session_id);
}

describe('sessions are issued by the server, owned and unguessable', () => {
  it('issues 128-bit random ids', async () => {
    const api = bareApi();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add(await opened(api));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^rs_[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(newSessionId().slice(3), 'base64url')).toHaveLength(16);
  });

  it('refuses a takeover: a taken id is 409 on /recommend, a foreign session 403, and nothing is emitted', async () => {
    const api = bareApi();
    const sid = await opened(api, 'alice');
    const takeover = await api.post('/recommend', {
      user_id: 'mallory',
      text: 'Hi.',
      recommend_session_id: sid,
    });
    expect(takeover.status).toBe(409);
    expect(takeover.body).toMatchObject({ error: 'session_exists', retriable: false });
    const foreignPara = await api.post('/paraphrase', para(sid, 'mallory'));
    expect(foreignPara.status).toBe(403);
    expect(foreignPara.body.error).toBe('session_user_mismatch');
    const foreignSel = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'mallory',
      chosen_index: null,
    });
    expect(foreignSel.status).toBe(403);
    expect(api.events.map((e) => e.type)).toEqual(['recommend']);
    // The owner's session is untouched.
    expect((await api.post('/paraphrase', para(sid))).status).toBe(200);
    expect(
      (await api.post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: 0 })).status,
    ).toBe(200);
  });

  it('refuses guessed ids with 404 unknown_session, and emits nothing', async () => {
    const api = bareApi();
    await opened(api);
    for (const guess of ['rs_AAAAAAAAAAAAAAAAAAAAAA', 's42-p-1079', newSessionId()]) {
      const p = await api.post('/paraphrase', para(guess));
      expect(p.status).toBe(404);
      expect(p.body.error).toBe('unknown_session');
      const s = await api.post('/select', {
        recommend_session_id: guess,
        user_id: 'alice',
        chosen_index: null,
      });
      expect(s.status).toBe(404);
    }
    expect(api.events.map((e) => e.type)).toEqual(['recommend']);
  });

  it('accepts a client-chosen id once', async () => {
    const api = bareApi();
    const mine = await api.post('/recommend', {
      user_id: 'alice',
      text: 'Hi.',
      recommend_session_id: 'editor-42',
    });
    expect(mine.status).toBe(200);
    expect(mine.body.recommend_session_id).toBe('editor-42');
    const again = await api.post('/recommend', {
      user_id: 'alice',
      text: 'Hi.',
      recommend_session_id: 'editor-42',
    });
    expect(again.status).toBe(409);
    expect(api.ofType('recommend')).toHaveLength(1);
  });
});

describe('idempotent writes', () => {
  it('a /select retried with the same key gets the first answer and emits exactly one C with the derived id', async () => {
    const api = bareApi();
    const sid = await opened(api);
    await api.post('/paraphrase', para(sid));
    const body = { recommend_session_id: sid, user_id: 'alice', chosen_index: 1 };
    const first = await api.post('/select', body, { 'idempotency-key': 'sel-1' });
    api.advance(1_000);
    const retry = await api.post('/select', body, { 'idempotency-key': 'sel-1' });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const cs = api.ofType('selection');
    expect(cs).toHaveLength(1);
    expect(cs[0]!.event_id).toBe(idempotentEventId('/select', 'alice', 'sel-1'));
    expect(first.body.event_id).toBe(cs[0]!.event_id);
  });

  it('a /paraphrase retried with the same key returns the same candidates and emits one B', async () => {
    const api = bareApi();
    const sid = await opened(api);
    const a = await api.post('/paraphrase', para(sid), { 'idempotency-key': 'p-1' });
    const b = await api.post(
      '/paraphrase',
      { ...para(sid), intensity: 'strong' },
      { 'idempotency-key': 'p-1' },
    );
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(api.ofType('paraphrase')).toHaveLength(1);
    // Another user's identical key is another request.
    const bob = await opened(api, 'bob');
    expect((await api.post('/paraphrase', para(bob, 'bob'), { 'idempotency-key': 'p-1' })).status).toBe(200);
    expect(api.ofType('paraphrase')).toHaveLength(2);
  });

  it('the same key with a different body is 422 idempotency_key_reused, and emits nothing', async () => {
    const api = bareApi();
    const sid = await opened(api);
    await api.post('/paraphrase', para(sid), { 'idempotency-key': 'k' });
    const other = await api.post(
      '/paraphrase',
      { ...para(sid), intensity: 'weak' },
      { 'idempotency-key': 'k' },
    );
    expect(other.status).toBe(422);
    expect(other.body.error).toBe('idempotency_key_reused');
    expect(api.ofType('paraphrase')).toHaveLength(1);
    const bad = await api.post('/paraphrase', para(sid), { 'idempotency-key': 'no spaces allowed' });
    expect(bad.status).toBe(400);
  });

  it('a failed emit frees the key: the retry runs, with the same event id', async () => {
    let fail = true;
    const api = bareApi({ failEmits: () => fail });
    fail = false;
    const sid = await opened(api);
    fail = true;
    const body = { recommend_session_id: sid, user_id: 'alice', chosen_index: null };
    const first = await api.post('/select', body, { 'idempotency-key': 'k' });
    expect(first.status).toBe(503);
    fail = false;
    const retry = await api.post('/select', body, { 'idempotency-key': 'k' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(api.ofType('selection').map((e) => e.event_id)).toEqual([
      idempotentEventId('/select', 'alice', 'k'),
    ]);
  });
});

describe('erasure', () => {
  it("DELETE /users/:id forgets the user's sessions and stored answers, not anyone else's", async () => {
    const api = bareApi();
    const mine = await opened(api, 'alice');
    const theirs = await opened(api, 'bob');
    await api.post('/paraphrase', para(mine), { 'idempotency-key': 'k' });
    const del = await api.app.request('/users/alice', { method: 'DELETE' });
    expect(del.status).toBe(202);
    expect((await api.post('/paraphrase', para(mine))).status).toBe(404);
    // The stored answer (alice's paraphrased text) is gone too: the key runs afresh, and 404s.
    const again = await api.post('/paraphrase', para(mine), { 'idempotency-key': 'k' });
    expect(again.status).toBe(404);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect((await api.post('/paraphrase', para(theirs, 'bob'))).status).toBe(200);
  });
});

describe('after a selection', () => {
  it('a second /select is 409 already_selected, a /paraphrase 409, and neither emits', async () => {
    const api = bareApi();
    const sid = await opened(api);
    await api.post('/paraphrase', para(sid));
    expect(
      (await api.post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: 0 })).status,
    ).toBe(200);
    const second = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'alice',
      chosen_index: 1,
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('already_selected');
    const late = await api.post('/paraphrase', para(sid));
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('already_selected');
    expect(api.events.map((e) => e.type)).toEqual(['recommend', 'paraphrase', 'selection']);
  });
});

/** The offline paraphraser, held on each call until the test lets it answer (a slow LLM). */
function heldParaphraser() {
  const offline = createOfflineParaphraser();
  let called: () => void = () => {};
  const calledOnce = new Promise<void>((r) => {
    called = r;
  });
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const paraphraser: Paraphraser = {
    provider: offline.provider,
    model: offline.model,
    paraphrase: async (input) => {
      called();
      await released;
      return offline.paraphrase(input);
    },
  };
  return { paraphraser, calledOnce, release };
}

describe('a /select while a /paraphrase emits its B', () => {
  /** B's send waits until released; resolves `started` when it began. */
  const slowB = () => {
    let release!: () => void;
    let began!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const started = new Promise<void>((r) => {
      began = r;
    });
    const beforeEmit = (e: SessionEvent) => {
      if (e.type !== 'paraphrase') return undefined;
      began();
      return gate;
    };
    return { beforeEmit, release, started };
  };

  it('waits for the B on the log, then takes the selection: B before C, never after', async () => {
    const b = slowB();
    const api = bareApi({ beforeEmit: b.beforeEmit });
    const sid = await opened(api);
    const paraphrased = api.post('/paraphrase', para(sid));
    await b.started;
    const selected = api.post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(api.events.map((e) => e.type)).toEqual(['recommend']); // C waits for B
    b.release();
    expect((await paraphrased).status).toBe(200);
    expect((await selected).status).toBe(200);
    expect(api.events.map((e) => e.type)).toEqual(['recommend', 'paraphrase', 'selection']);
  });

  it('a B that takes longer than a second: the /select is 409 paraphrase_in_progress (retriable), then succeeds', async () => {
    const b = slowB();
    const api = bareApi({ beforeEmit: b.beforeEmit });
    const sid = await opened(api);
    const paraphrased = api.post('/paraphrase', para(sid));
    await b.started;
    const early = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'alice',
      chosen_index: null,
    });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: 'paraphrase_in_progress', retriable: true });
    expect(early.headers.get('retry-after')).toBe('1');
    expect(api.events.map((e) => e.type)).toEqual(['recommend']);
    b.release();
    expect((await paraphrased).status).toBe(200);
    const retried = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'alice',
      chosen_index: 0,
    });
    expect(retried.status).toBe(200);
    expect(api.events.map((e) => e.type)).toEqual(['recommend', 'paraphrase', 'selection']);
  });
});

describe('a /select while a /paraphrase waits on the LLM', () => {
  it('refuses a chosen_index: there are no candidates yet to check it against', async () => {
    const held = heldParaphraser();
    const api = bareApi({ paraphraser: held.paraphraser });
    const sid = await opened(api);
    const inFlight = api.post('/paraphrase', para(sid));
    await held.calledOnce;
    const indexed = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'alice',
      chosen_index: 7,
    });
    expect(indexed.status).toBe(409);
    expect(indexed.body.error).toBe('paraphrase_in_progress');
    held.release();
    expect((await inFlight).status).toBe(200);
    expect(api.events.map((e) => e.type)).toEqual(['recommend', 'paraphrase']);
  });

  it('takes a selection without an index, and the paraphrase that lands after it is 409 and emits no B', async () => {
    const held = heldParaphraser();
    const api = bareApi({ paraphraser: held.paraphraser });
    const sid = await opened(api);
    const inFlight = api.post('/paraphrase', para(sid));
    await held.calledOnce;
    const own = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'alice',
      chosen_index: null,
    });
    expect(own.status).toBe(200);
    held.release();
    const late = await inFlight;
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('already_selected');
    expect(api.events.map((e) => e.type)).toEqual(['recommend', 'selection']);
  });

  it('lets the paraphrase emit when no selection came meanwhile, and then checks chosen_index', async () => {
    const held = heldParaphraser();
    const api = bareApi({ paraphraser: held.paraphraser });
    const sid = await opened(api);
    const inFlight = api.post('/paraphrase', para(sid));
    await held.calledOnce;
    held.release();
    const done = await inFlight;
    expect(done.status).toBe(200);
    const n = (done.body.candidates as string[]).length;
    const out = await api.post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: n });
    expect(out.status).toBe(400);
    const ok = await api.post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: 0 });
    expect(ok.status).toBe(200);
    expect(api.events.map((e) => e.type)).toEqual(['recommend', 'paraphrase', 'selection']);
  });
});

describe('a /select whose first answer was never stored', () => {
  it('is answered as a replay on retry (same event id and as_of), not 409, and emits no second C', async () => {
    let failComplete = true;
    const api = bareApi({ failComplete: () => failComplete });
    const sid = await opened(api);
    const body = { recommend_session_id: sid, user_id: 'alice', chosen_index: null };
    const first = await api.post('/select', body, { 'idempotency-key': 'sel-lost' });
    expect(first.status).toBe(200);
    failComplete = false;
    api.advance(61_000); // the pending claim (60 s) lapses: the retry runs the handler again
    const retry = await api.post('/select', body, { 'idempotency-key': 'sel-lost' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(api.ofType('selection')).toHaveLength(1);
    // Another key is another selection: still refused.
    const other = await api.post('/select', body, { 'idempotency-key': 'sel-other' });
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('already_selected');
  });
});

describe('read-your-writes', () => {
  const folded = (sid: string, ts: string, version: number): UserProfile => ({
    ...emptyProfile('alice'),
    version,
    sessions: version,
    applied_offsets: { '0': version },
    recent: {
      [sid]: {
        revision: 1,
        ts,
        option: 'email:strong',
        outcome: 'accepted',
        style_request: false,
        language: 'en',
        embedded: false,
      },
    },
  });

  it('waits for the profile to include the selection of an as_of token, and says so', async () => {
    let api: ReturnType<typeof bareApi>;
    let cTs = '';
    let sid = '';
    // The "stream" folds the session on the second poll.
    api = bareApi({
      onSleep: async (n) => {
        if (n === 2) await api.profiles.putMany([folded(sid, cTs, 1)]);
      },
    });
    sid = await opened(api);
    await api.post('/paraphrase', para(sid));
    const sel = await api.post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: 0 });
    const asOf = String(sel.body.as_of);
    cTs = decodeAsOf(asOf)!.ts;
    expect(decodeAsOf(asOf)!.session).toBe(sid);
    const rec = await api.post('/recommend', { user_id: 'alice', text: 'Hi.', as_of: asOf });
    expect(rec.status).toBe(200);
    expect(rec.body.read_your_writes).toEqual({ waited_ms: expect.any(Number), satisfied: true });
    expect(rec.body.profile_version).toBe(1);
    expect(api.stats().sleeps).toBe(2);
  });

  it('does not take an earlier revision of the session (before C) for the selection', async () => {
    const api = bareApi();
    const sid = await opened(api);
    const sel = await api.post('/select', {
      recommend_session_id: sid,
      user_id: 'alice',
      chosen_index: null,
    });
    const { ts } = decodeAsOf(String(sel.body.as_of))!;
    await api.profiles.putMany([folded(sid, new Date(Date.parse(ts) - 1).toISOString(), 1)]);
    const rec = await api.post('/recommend', { user_id: 'alice', text: 'Hi.', as_of: sel.body.as_of });
    expect(rec.body.read_your_writes).toMatchObject({ satisfied: false });
  });

  it('gives up after the bound with satisfied: false and answers with the profile it has', async () => {
    const api = bareApi();
    const before = api.stats().reads;
    const rec = await api.post('/recommend', { user_id: 'alice', text: 'Hi.', min_profile_version: 3 });
    expect(rec.status).toBe(200);
    expect(rec.body.read_your_writes).toMatchObject({ satisfied: false });
    expect(rec.body.profile_version).toBeNull();
    // 200 ms bound / 20 ms polls: the first read and ten more.
    expect(api.stats().reads - before).toBe(11);
  });

  it('answers at once when the profile is already there, and refuses a token it did not make', async () => {
    const api = bareApi();
    await api.profiles.putMany([{ ...folded('rs_x', '2026-03-02T09:00:00.000Z', 4) }]);
    const rec = await api.post('/recommend', { user_id: 'alice', text: 'Hi.', min_profile_version: 4 });
    expect(rec.body.read_your_writes).toMatchObject({ satisfied: true });
    expect(rec.body.profile_version).toBe(4);
    expect(api.stats().sleeps).toBe(0);
    const plain = await api.post('/recommend', { user_id: 'alice', text: 'Hi.' });
    expect(plain.body.read_your_writes).toBeUndefined();
    const forged = await api.post('/recommend', { user_id: 'alice', text: 'Hi.', as_of: 'rs_x' });
    expect(forged.status).toBe(422);
    expect(forged.body.error).toBe('invalid_as_of');
  });
});

describe('the contract', () => {
  it('limit answers (and logs in A) the top k only', async () => {
    const api = bareApi();
    const all = await api.post('/recommend', { user_id: 'alice', text: 'Please send the report.' });
    const top = await api.post('/recommend', { user_id: 'alice', text: 'Please send the report.', limit: 3 });
    expect((all.body.options as unknown[]).length).toBe(21);
    expect(top.body.options).toEqual((all.body.options as unknown[]).slice(0, 3));
    const a = api.ofType('recommend')[1] as Extract<SessionEvent, { type: 'recommend' }>;
    expect(a.options).toHaveLength(3);
    expect((await api.post('/recommend', { user_id: 'alice', text: 'Hi.', limit: 0 })).status).toBe(400);
  });

  it('reads the profile slim by default, whole with view=full', async () => {
    const api = bareApi();
    await api.profiles.putMany([
      {
        ...emptyProfile('alice'),
        version: 2,
        sessions: 2,
        embedding: { n: 2, vector: Array.from({ length: 384 }, () => 0.1) },
        option_embeddings: { 'email:strong': { n: 1, vector: Array.from({ length: 384 }, () => 0.2) } },
        applied_offsets: { '0': 7 },
        recent: {},
      },
    ]);
    const slim = await api.app.request('/users/alice/profile');
    const slimBody = (await slim.json()) as Record<string, unknown>;
    expect(slimBody).toMatchObject({ user_id: 'alice', version: 2, view: 'slim', embedded_sessions: 2 });
    for (const k of ['embedding', 'option_embeddings', 'applied_offsets', 'recent'])
      expect(slimBody).not.toHaveProperty(k);
    const full = (await (await api.app.request('/users/alice/profile?view=full')).json()) as Record<
      string,
      unknown
    >;
    expect((full.embedding as { vector: number[] }).vector).toHaveLength(384);
    expect(JSON.stringify(slimBody).length * 10).toBeLessThan(JSON.stringify(full).length);
    expect((await api.app.request('/users/alice/profile?view=everything')).status).toBe(400);
  });

  it('the OpenAPI document gives /paraphrase as oneOf its two forms, and text a non-blank pattern', async () => {
    const api = bareApi();
    type Schema = {
      oneOf: { required: string[] }[];
      properties: Record<string, { pattern?: string }>;
    };
    const doc = (await (await api.app.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        { post: { requestBody: { content: { 'application/json': { schema: Schema } } } } }
      >;
    };
    const schema = doc.paths['/paraphrase']!.post.requestBody.content['application/json'].schema;
    expect(schema.oneOf).toHaveLength(2);
    expect(schema.oneOf[0]!.required).toEqual(expect.arrayContaining(['category', 'intensity']));
    expect(schema.oneOf[1]!.required).toEqual(expect.arrayContaining(['style_request']));
    const rec = doc.paths['/recommend']!.post.requestBody.content['application/json'].schema;
    expect(rec.properties.text!.pattern).toBe('\\S');
    expect((await api.post('/recommend', { user_id: 'alice', text: ' \n\t ' })).status).toBe(400);
  });
});
