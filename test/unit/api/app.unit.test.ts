import { describe, expect, it } from 'vitest';
import { createOfflineParaphraser } from '../../../api/paraphrase/offline-paraphraser.ts';
import type { Paraphraser } from '../../../api/paraphrase/paraphraser.ts';
import type {
  ParaphraseEvent,
  RankedOption,
  RecommendEvent,
  SelectionEvent,
} from '../../../schemas/index.ts';
import { recommendEventSchema } from '../../../schemas/index.ts';
import type { ProfileStore } from '../../../streams/stores/profile-store.ts';
import { apiHarness } from '../../helpers/api-harness.ts';

const options = (b: Record<string, unknown>) => b.options as RankedOption[];

describe('POST /recommend', () => {
  it('ranks every option with its components, propensity and reason, and emits A with all of it', async () => {
    const h = await apiHarness();
    const res = await h.post('/recommend', {
      user_id: 'u1',
      text: 'Please find the report attached.',
      doc_id: 'd1',
    });
    expect(res.status).toBe(200);
    const opts = options(res.body);
    expect(opts).toHaveLength(21);
    expect(opts.map((o) => o.rank)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    for (const o of opts) {
      expect(o.components).toEqual({
        vec: expect.any(Number),
        doc: expect.any(Number),
        user: expect.any(Number),
        cluster: expect.any(Number),
      });
      expect(o.reason).toMatch(/\S/);
    }
    expect(opts.reduce((s, o) => s + o.score, 0)).toBeCloseTo(1, 9);
    expect(res.body.cold_start).toBe(true);
    expect(res.body.embedder).toEqual({ model: 'offline-hash-ngram-v1', offline: true });
    const [a] = h.events(h.topics.recommend) as RecommendEvent[];
    expect(recommendEventSchema.parse(a)).toBeTruthy();
    expect(a!.recommend_session_id).toBe(res.body.recommend_session_id);
    expect(a!.options).toEqual(opts);
    expect(a!.context).toMatchObject({ text: 'Please find the report attached.', language: 'en' });
  });

  it('detects Korean and honours an explicit language', async () => {
    const h = await apiHarness();
    await h.post('/recommend', { user_id: 'u1', text: '회의 일정을 변경하고자 합니다.' });
    await h.post('/recommend', { user_id: 'u1', text: 'Bonjour', language: 'fr' });
    expect((h.events(h.topics.recommend) as RecommendEvent[]).map((a) => a.context.language)).toEqual([
      'ko',
      'fr',
    ]);
  });

  it('answers an unknown user with a cold-start ranking, not an error', async () => {
    const h = await apiHarness();
    const res = await h.post('/recommend', { user_id: 'never-seen', text: 'Hello there.' });
    expect(res.status).toBe(200);
    expect(res.body.cold_start).toBe(true);
    expect(res.body.profile_version).toBeNull();
  });

  it('answers without personalisation, marked degraded, when the profile store is down', async () => {
    const down: ProfileStore = {
      getMany: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 10.20.30.40:6379'), { code: 'ECONNREFUSED' });
      },
      putMany: async () => {},
      async *scan() {},
      count: async () => 0,
    };
    const told: [string, string][] = [];
    const h = await apiHarness({
      profiles: down,
      onUpstreamError: (what, err) => told.push([what, (err as Error).message]),
    });
    const res = await h.post('/recommend', { user_id: 'u1', text: 'Hello there.' });
    expect(res.status).toBe(200);
    expect(res.body.degraded).toBe(true);
    expect(String(res.body.degraded_reasons)).toMatch(/profiles unavailable: ECONNREFUSED/);
    // The answer names the kind of failure, never the deployment's hosts; the server's log does.
    expect(JSON.stringify(res.body)).not.toContain('10.20.30.40');
    expect(told).toContainEqual(['profiles', 'connect ECONNREFUSED 10.20.30.40:6379']);
    expect(options(res.body)).toHaveLength(21);
    expect(h.metrics.value('sentencify_store_errors_total', { store: 'profiles' })).toBe(1);
    const prof = await h.get('/users/u1/profile');
    expect(prof.status).toBe(503);
    // The same store failing a read outright is logged under the same name as when it degraded one.
    expect(told.map(([what]) => what)).toEqual(['profiles', 'profiles']);
  });
});

describe('POST /paraphrase and /select', () => {
  it('paraphrases with an option, labels the offline LLM, emits B; select emits C', async () => {
    const h = await apiHarness();
    const rec = await h.post('/recommend', { user_id: 'u1', text: 'We will ship it next week.' });
    const sid = rec.body.recommend_session_id;
    const para = await h.post('/paraphrase', {
      recommend_session_id: sid,
      user_id: 'u1',
      text: 'We will ship it next week.',
      category: 'email',
      intensity: 'strong',
    });
    expect(para.status).toBe(200);
    expect(para.body).toMatchObject({ provider: 'offline', offline: true, variant: 'A' });
    expect((para.body.candidates as string[]).length).toBe(3);
    const [b] = h.events(h.topics.paraphrase) as ParaphraseEvent[];
    expect(b!.request).toEqual({ category: 'email', intensity: 'strong' });
    expect(b!.llm).toMatchObject({ provider: 'offline', model: 'offline-paraphraser-v1', variant: 'A' });
    const sel = await h.post('/select', {
      recommend_session_id: sid,
      user_id: 'u1',
      chosen_index: 2,
      edited: true,
    });
    expect(sel.status).toBe(200);
    const [c] = h.events(h.topics.selection) as SelectionEvent[];
    expect(c).toMatchObject({ chosen_index: 2, edited: true, recommend_session_id: sid });
  });

  it('takes a free style request', async () => {
    const h = await apiHarness();
    const rec = await h.post('/recommend', { user_id: 'u1', text: '내일까지 보내주세요.' });
    const para = await h.post('/paraphrase', {
      recommend_session_id: rec.body.recommend_session_id,
      user_id: 'u1',
      text: '내일까지 보내주세요.',
      style_request: '정중하게',
    });
    expect(para.status).toBe(200);
    expect((h.events(h.topics.paraphrase) as ParaphraseEvent[])[0]!.request).toEqual({
      style_request: '정중하게',
    });
  });

  it.each([
    [{ category: 'email' }, 'intensity'],
    [{ category: 'email', intensity: 'weak', style_request: 'x' }, 'style_request'],
    [{}, 'category'],
    [{ category: 'poetry', intensity: 'weak' }, 'category'],
    [{ category: 'email', intensity: 'extreme' }, 'intensity'],
  ])('rejects %j with a 400 naming %s', async (extra, field) => {
    const h = await apiHarness();
    const res = await h.post('/paraphrase', {
      recommend_session_id: 's1',
      user_id: 'u1',
      text: 'Hi.',
      ...extra,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(String(res.body.message)).toMatch(new RegExp(`^${field}`));
  });

  it('checks chosen_index against the candidates it served and the session owner', async () => {
    const h = await apiHarness();
    const rec = await h.post('/recommend', { user_id: 'u1', text: 'Hello.' });
    const sid = rec.body.recommend_session_id;
    await h.post('/paraphrase', {
      recommend_session_id: sid,
      user_id: 'u1',
      text: 'Hello.',
      category: 'general',
      intensity: 'weak',
    });
    const out = await h.post('/select', { recommend_session_id: sid, user_id: 'u1', chosen_index: 3 });
    expect(out.status).toBe(400);
    expect(out.body.message).toMatch(/^chosen_index: 3 is out of range/);
    const other = await h.post('/select', { recommend_session_id: sid, user_id: 'u2', chosen_index: 0 });
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('session_user_mismatch');
    const rejectAll = await h.post('/select', {
      recommend_session_id: sid,
      user_id: 'u1',
      chosen_index: null,
    });
    expect(rejectAll.status).toBe(200);
  });

  it('maps a failing LLM endpoint to a retriable 502 and counts it', async () => {
    const broken: Paraphraser = {
      provider: 'acme',
      model: 'm',
      paraphrase: async () => {
        throw new Error('connect ECONNREFUSED 10.9.8.7:8080');
      },
    };
    const told: string[] = [];
    const h = await apiHarness({ b: broken, onUpstreamError: (what) => told.push(what) });
    // find a user in variant B
    let user = '';
    let sid = '';
    for (let i = 0; i < 100 && !user; i++) {
      const r = await h.post('/recommend', { user_id: `u${i}`, text: 'x' });
      if (r.body.variant === 'B') [user, sid] = [`u${i}`, String(r.body.recommend_session_id)];
    }
    const res = await h.post('/paraphrase', {
      recommend_session_id: sid,
      user_id: user,
      text: 'x',
      category: 'general',
      intensity: 'weak',
    });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ error: 'llm_failed', retriable: true });
    expect(res.body.message).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(res.body)).not.toContain('10.9.8.7');
    expect(told).toEqual(['llm']);
    expect(await h.metrics.render()).toMatch(
      /sentencify_llm_calls_total\{model="m",outcome="error",provider="acme",variant="B"\} 1/,
    );
  });
});

describe('A/B routing', () => {
  it('assigns users stickily, uses each variant its own endpoint and stamps the variant on A and B', async () => {
    const b: Paraphraser = { ...createOfflineParaphraser(), provider: 'offline-b', model: 'new-model' };
    const h = await apiHarness({
      b: {
        ...b,
        paraphrase: async (i) => ({ ...(await b.paraphrase(i)), provider: 'offline-b', model: 'new-model' }),
      },
    });
    const seen = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const user = `user-${i % 10}`;
      const r = await h.post('/recommend', { user_id: user, text: 'Hi.' });
      const v = String(r.body.variant);
      if (seen.has(user)) expect(v).toBe(seen.get(user));
      seen.set(user, v);
      const p = await h.post('/paraphrase', {
        recommend_session_id: r.body.recommend_session_id,
        user_id: user,
        text: 'Hi.',
        category: 'email',
        intensity: 'weak',
      });
      expect(p.body.variant).toBe(v);
      expect(p.body.provider).toBe(v === 'B' ? 'offline-b' : 'offline');
    }
    expect(new Set(seen.values())).toEqual(new Set(['A', 'B']));
    const as = h.events(h.topics.recommend) as RecommendEvent[];
    const bs = h.events(h.topics.paraphrase) as ParaphraseEvent[];
    for (let i = 0; i < as.length; i++) expect(bs[i]!.llm.variant).toBe(as[i]!.variant);
  });
});

describe('bad input never becomes a 500', () => {
  it.each([
    ['malformed JSON', '{"user_id": "u1", "text": ', 400, 'malformed_json', /not valid JSON/],
    ['an empty body', '', 400, 'invalid_request', /JSON object is required/],
    ['a missing field', { text: 'hi' }, 400, 'invalid_request', /^user_id: /],
    ['a wrong type', { user_id: 'u1', text: 42 }, 400, 'invalid_request', /^text: /],
    ['an unknown field', { user_id: 'u1', text: 'hi', colour: 'red' }, 400, 'invalid_request', /colour/],
    ['an empty text', { user_id: 'u1', text: '   ' }, 400, 'invalid_request', /^text: must not be blank/],
    ['a JSON array', [1, 2], 400, 'invalid_request', /./],
  ])('%s → %i', async (_name, body, status, code, message) => {
    const h = await apiHarness();
    const res = await h.post('/recommend', body);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(code);
    expect(String(res.body.message)).toMatch(message);
  });

  it('refuses bodies over 1 MB with 413', async () => {
    const h = await apiHarness();
    const res = await h.post('/recommend', { user_id: 'u1', text: 'x'.repeat(1_100_000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const h = await apiHarness();
    const res = await h.get('/nope');
    expect(res.status).toBe(404);
  });
});

describe('reads and operations', () => {
  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    let ready = false;
    const h = await apiHarness({ ready: () => ready });
    expect((await h.get('/health')).status).toBe(200);
    expect((await h.get('/ready')).status).toBe(503);
    ready = true;
    expect((await h.get('/ready')).status).toBe(200);
    await h.post('/recommend', { user_id: 'u1', text: 'Hi.' });
    await h.post('/recommend', { user_id: 'u1' });
    const metrics = String((await h.get('/metrics')).body);
    expect(metrics).toMatch(
      /sentencify_http_requests_total\{method="POST",route="\/recommend",status="200"\} 1/,
    );
    expect(metrics).toMatch(
      /sentencify_http_requests_total\{method="POST",route="\/recommend",status="400"\} 1/,
    );
    expect(metrics).toMatch(
      /sentencify_http_request_duration_ms_bucket\{le="\+Inf",route="\/recommend",status="200"\} 1/,
    );
    expect(metrics).toMatch(/sentencify_vector_index_size/);
    const doc = (await h.get('/openapi.json')).body as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/recommend', '/paraphrase', '/select', '/users/{id}/profile', '/clusters']),
    );
    const recommend = doc.paths['/recommend'] as {
      post: { requestBody: { content: { 'application/json': { schema: { required: string[] } } } } };
    };
    expect(recommend.post.requestBody.content['application/json'].schema.required).toEqual([
      'user_id',
      'text',
    ]);
  });

  it('returns 404 for a profile that does not exist yet, and the clusters list', async () => {
    const h = await apiHarness();
    expect((await h.get('/users/ghost/profile')).status).toBe(404);
    expect((await h.get('/clusters')).body).toEqual({ clusters: [] });
  });
});
