import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RankedOption, TopicNames } from '../../schemas/index.ts';
import { client, spawnApi } from './api-harness.ts';
import { eventually, kafkaClient, namespace, type StreamProcess, spawnStream } from './stream-harness.ts';

const svc = inject('services');

const THESIS = [
  'The sample consisted of remote software engineers recruited online.',
  'The study was approved by the institutional review board.',
  'We employ a longitudinal panel survey to test three hypotheses.',
  'The results confirm the proposed hypothesis for both cohorts.',
  'Our analysis controls for tenure, team size and seniority.',
  'The effect remains significant after adding the control variables.',
  'These findings extend prior work on distributed collaboration.',
  'Participants completed the questionnaire in about twenty minutes.',
];

const top = (b: Record<string, unknown>) => {
  const o = (b.options as RankedOption[])[0]!;
  return { key: `${o.category}:${o.intensity}`, reason: o.reason ?? '' };
};

describe.skipIf(!svc.ok)('the API process on Kafka and Redis, next to the stream processor', () => {
  let kafka: Kafka;
  const running: { kill(signal?: NodeJS.Signals): Promise<number | null> }[] = [];
  const namespaces: { topics: TopicNames; redisPrefix: string }[] = [];
  const ns = () => {
    const n = namespace(svc);
    namespaces.push(n);
    return n;
  };
  const startApi = (env: Record<string, string>) => {
    const p = spawnApi(env);
    running.push(p);
    return p;
  };
  const startStream = (env: Record<string, string>): StreamProcess => {
    const p = spawnStream(env);
    running.push(p);
    return p;
  };

  beforeAll(() => {
    kafka = kafkaClient(svc);
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    // Each test's namespace is its own: remove its topics and keys.
    const admin = kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = namespaces.flatMap((n) => Object.values(n.topics)).filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => {});
    await admin.disconnect();
    const redis = new Redis(svc.redisUrl);
    for (const n of namespaces) {
      const keys = await redis.keys(`${n.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
  });

  it('serves recommendations from the profiles the stream processor wrote to Redis', async () => {
    const n = ns();
    const stream = startStream(n.env);
    // ε = 0: no exploration, so rank 1 is the greedy choice and the assertions are deterministic.
    const api = startApi({ ...n.env, EPSILON: '0' });
    const http = client(await api.port);
    await eventually(async () => expect((await http.get('/ready')).status).toBe(200), 30_000, 200);

    // Alice always wants thesis · strong; Bob writes the very same sentences and always wants
    // email · weak, so similar past contexts are split and only Alice's own history can decide.
    const tastes = {
      alice: { category: 'thesis', intensity: 'strong' },
      bob: { category: 'email', intensity: 'weak' },
    };
    for (let round = 0; round < 8; round++) {
      for (const [user, option] of Object.entries(tastes)) {
        const text = THESIS[round]!;
        const rec = await http.post('/recommend', { user_id: user, text });
        expect(rec.status, JSON.stringify(rec.body)).toBe(200);
        expect(rec.body.degraded).toBeUndefined();
        const sid = rec.body.recommend_session_id as string;
        const para = await http.post('/paraphrase', {
          recommend_session_id: sid,
          user_id: user,
          text,
          ...option,
        });
        expect(para.status, JSON.stringify(para.body)).toBe(200);
        expect(para.body.offline).toBe(true);
        const sel = await http.post('/select', { recommend_session_id: sid, user_id: user, chosen_index: 0 });
        expect(sel.status, JSON.stringify(sel.body)).toBe(200);
      }
    }

    // The stream joined A/B/C into H and folded H into G in Redis; the API reads G from there.
    await eventually(
      async () => {
        const p = await http.get('/users/alice/profile');
        expect(p.status).toBe(200);
        expect((p.body.options as Record<string, { selected: number }>)['thesis:strong']?.selected).toBe(8);
        const b = await http.get('/users/bob/profile');
        expect((b.body.options as Record<string, { selected: number }>)?.['email:weak']?.selected).toBe(8);
      },
      30_000,
      250,
    );
    // …and its index feeder read the same H: all 16 kept sessions are indexed contexts.
    await eventually(
      async () =>
        expect(await http.get('/metrics')).toMatchObject({
          body: expect.stringMatching(/sentencify_vector_index_size 16\n/),
        }),
      15_000,
      250,
    );

    const a = await http.post('/recommend', {
      user_id: 'alice',
      text: 'The findings support the hypothesis.',
    });
    expect(a.status).toBe(200);
    expect(a.body.degraded).toBeUndefined();
    expect(a.body.cold_start).toBe(false);
    expect(a.body.profile_version).toBeGreaterThan(0);
    expect(top(a.body).key).toBe('thesis:strong');
    expect(top(a.body).reason).toMatch(/you chose thesis · strong in 8 of your 8 sessions/);
    const b = await http.post('/recommend', { user_id: 'bob', text: 'The findings support the hypothesis.' });
    expect(top(b.body).key).toBe('email:weak');
    expect(top(b.body).reason).toMatch(/you chose email · weak/);

    // A second instance rebuilds its own index from H before it says it is ready.
    const second = startApi({ ...n.env, EPSILON: '0' });
    const http2 = client(await second.port);
    await eventually(async () => expect((await http2.get('/ready')).status).toBe(200), 30_000, 100);
    expect((await http2.get('/metrics')).body).toMatch(/sentencify_vector_index_size 16\n/);
    expect(
      top((await http2.post('/recommend', { user_id: 'alice', text: 'The findings support it.' })).body).key,
    ).toBe('thesis:strong');
    expect(await second.kill('SIGTERM')).toBe(0);

    // SIGTERM: stop accepting, drain, close clients, exit 0.
    expect(await api.kill('SIGTERM')).toBe(0);
    expect(api.output.join('')).toContain('"msg":"stopped"');
    expect(await stream.kill('SIGTERM')).toBe(0);
  });

  it('answers degraded, and fast, while Redis is unreachable', async () => {
    const n = ns();
    // Port 1: nothing listens, every connection is refused. The shared Redis stays untouched.
    const api = startApi({ ...n.env, REDIS_URL: 'redis://127.0.0.1:1' });
    const http = client(await api.port);
    // Kafka is there, so the instance gets ready: it can still answer every /recommend.
    await eventually(
      async () =>
        expect((await http.get('/ready')).body).toMatchObject({ ready: true, sinks: { index: { lag: 0 } } }),
      30_000,
      200,
    );

    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const rec = await http.post('/recommend', { user_id: `u${i}`, text: THESIS[i]! });
      const ms = performance.now() - t0;
      expect(rec.status).toBe(200);
      expect(ms).toBeLessThan(2_000);
      expect(rec.body.degraded).toBe(true);
      expect((rec.body.degraded_reasons as string[]).join('\n')).toMatch(/profiles unavailable/);
      expect((rec.body.options as unknown[]).length).toBeGreaterThan(0);
      expect(rec.body.profile_version).toBeNull();
    }
    const t0 = performance.now();
    const profile = await http.get('/users/u0/profile');
    expect(profile.status).toBe(503);
    expect(profile.body).toMatchObject({ error: 'profile_store_unavailable', retriable: true });
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(await http.get('/metrics')).toMatchObject({
      body: expect.stringMatching(/sentencify_redis_up 0\n/),
    });

    expect(await api.kill('SIGTERM')).toBe(0);
  });

  it('with API_WORKERS=2 runs two API processes on one port, and a SIGTERM drains and stops both', async () => {
    const n = ns();
    const api = startApi({ ...n.env, API_WORKERS: '2' });
    const http = client(await api.port);
    await eventually(async () => expect((await http.get('/ready')).status).toBe(200), 30_000, 200);
    await eventually(
      async () => {
        for (let i = 0; i < 8; i++) {
          const res = await http.post('/recommend', { user_id: `w${i}`, text: THESIS[i % THESIS.length] });
          expect(res.status).toBe(200);
        }
        expect(api.output.join('').match(/"msg":"ready"/g)?.length).toBe(2);
      },
      30_000,
      200,
    );
    expect(await api.kill('SIGTERM')).toBe(0);
    expect(api.output.join('').match(/"msg":"stopped"/g)?.length).toBe(2);
  });

  it('refuses a bad configuration with a message naming the variable (exit 2)', async () => {
    const api = spawnApi({ KAFKA_BROKERS: svc.kafkaBrokers, REDIS_URL: 'localhost:6379', ALPHA: '0.9' });
    running.push(api);
    expect(await api.exited).toBe(2);
    const out = api.output.join('');
    expect(out).toMatch(/REDIS_URL: a redis:\/\/ or rediss:\/\/ URL/);
    expect(out).toMatch(/ALPHA \+ BETA/);
  });
});
