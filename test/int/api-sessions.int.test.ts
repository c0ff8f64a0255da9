import { request } from 'node:http';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopicNames } from '../../schemas/index.ts';
import { spawnApi } from './api-harness.ts';
import { eventually, kafkaClient, namespace, spawnStream } from './stream-harness.ts';

const svc = inject('services');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/**
 * One new connection per request (no keep-alive), so node:cluster hands successive requests to
 * the workers in turn: a session opened on one worker is paraphrased and selected on another.
 */
const fresh = (port: number) => ({
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  },
  async get(path: string): Promise<number> {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  },
});

describe.skipIf(!svc.ok)(
  'sessions, idempotency and read-your-writes on npm run api (2 workers) and the stream',
  () => {
    let kafka: Kafka;
    const n = namespace(svc);
    const running: { kill(signal?: NodeJS.Signals): Promise<number | null> }[] = [];

    beforeAll(() => {
      kafka = kafkaClient(svc);
    });
    afterAll(async () => {
      await Promise.all(running.map((p) => p.kill('SIGKILL')));
      const admin = kafka.admin();
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const mine = Object.values(n.topics as TopicNames).filter((t) => existing.has(t));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => {});
      await admin.disconnect();
      const redis = new Redis(svc.redisUrl);
      const keys = await redis.keys(`${n.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    const messages = async (topic: string) => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        return offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
      } finally {
        await admin.disconnect();
      }
    };

    it('shares sessions across workers, refuses takeovers, emits one C per Idempotency-Key, and waits for the fold', async () => {
      running.push(spawnStream(n.env));
      const api = spawnApi({
        ...n.env,
        API_WORKERS: '2',
        EPSILON: '0',
        READ_YOUR_WRITES_MAX_WAIT_MS: '20000',
      });
      running.push(api);
      const http = fresh(await api.port);
      await eventually(async () => expect(await http.get('/ready')).toBe(200), 60_000, 200);
      await eventually(
        async () => expect(api.output.join('').match(/"msg":"ready"/g)?.length).toBe(2),
        60_000,
        200,
      );

      const text = 'The study was approved by the institutional review board.';
      const sessions = 6;
      let asOf = '';
      for (let i = 0; i < sessions; i++) {
        const rec = await http.post('/recommend', { user_id: 'alice', text });
        expect(rec.status, JSON.stringify(rec.body)).toBe(200);
        const sid = String(rec.body.recommend_session_id);
        expect(sid).toMatch(/^rs_[A-Za-z0-9_-]{22}$/);
        // Takeover and guessing, on whichever worker: refused, nothing emitted.
        expect(
          (await http.post('/recommend', { user_id: 'mallory', text, recommend_session_id: sid })).status,
        ).toBe(409);
        const foreign = {
          recommend_session_id: sid,
          user_id: 'mallory',
          text,
          category: 'thesis',
          intensity: 'strong',
        };
        expect((await http.post('/paraphrase', foreign)).status).toBe(403);
        expect(
          (
            await http.post('/select', {
              recommend_session_id: `${sid}x`,
              user_id: 'alice',
              chosen_index: null,
            })
          ).status,
        ).toBe(404);
        const para = await http.post(
          '/paraphrase',
          { ...foreign, user_id: 'alice' },
          { 'idempotency-key': `p-${i}` },
        );
        expect(para.status, JSON.stringify(para.body)).toBe(200);
        const sel = { recommend_session_id: sid, user_id: 'alice', chosen_index: 0 };
        const first = await http.post('/select', sel, { 'idempotency-key': `s-${i}` });
        expect(first.status, JSON.stringify(first.body)).toBe(200);
        for (let retry = 0; retry < 3; retry++) {
          const again = await http.post('/select', sel, { 'idempotency-key': `s-${i}` });
          expect(again.status).toBe(200);
          expect(again.body).toEqual(first.body);
          expect(again.headers['idempotent-replayed']).toBe('true');
        }
        const second = await http.post('/select', { ...sel, chosen_index: 1 });
        expect(second.status).toBe(409);
        expect(second.body.error).toBe('already_selected');
        asOf = String(first.body.as_of);
      }

      // The stream (another process) joins and folds asynchronously; as_of waits for it.
      const after = await http.post('/recommend', { user_id: 'alice', text, as_of: asOf });
      expect(after.status).toBe(200);
      expect(after.body.read_your_writes).toMatchObject({ satisfied: true });
      expect(after.body.profile_version).toBeGreaterThanOrEqual(1);
      // Exactly one B and one C per session reached Kafka: no refusal and no retry emitted anything.
      expect(await messages(n.topics.paraphrase)).toBe(sessions);
      expect(await messages(n.topics.selection)).toBe(sessions);
      expect(await api.kill('SIGTERM')).toBe(0);
    }, 180_000);
  },
);
