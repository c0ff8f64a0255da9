import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopicNames } from '../../schemas/index.ts';
import { type ApiProcess, spawnApi } from './api-harness.ts';
import { eventually, kafkaClient, namespace } from './stream-harness.ts';

const svc = inject('services');

const SECRETS = { editor: 'editor-int-secret-0123456789', reader: 'reader-int-secret-0123456789' };
const API_KEYS = `editor:${SECRETS.editor}:events,reader:${SECRETS.reader}:profiles`;
const BODY = JSON.stringify({ user_id: 'sec-u1', text: 'Could you send me the report today?' });

/** A raw HTTP request (fetch refuses TRACE and some headers), answered as status, headers, body. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(!svc.ok)('npm run api: keys, scopes, rate limits and transport rules over HTTP', () => {
  let kafka: Kafka;
  const running: ApiProcess[] = [];
  const namespaces: { topics: TopicNames; redisPrefix: string }[] = [];
  const start = (env: Record<string, string>) => {
    const n = namespace(svc);
    namespaces.push(n);
    const p = spawnApi({ ...n.env, ...env });
    running.push(p);
    return p;
  };

  beforeAll(() => {
    kafka = kafkaClient(svc);
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
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

  it('refuses to start open without keys unless AUTH=off (exit 2, saying how)', async () => {
    const api = start({ AUTH: '' });
    expect(await api.exited).toBe(2);
    expect(api.output.join('')).toMatch(/no API keys: set API_KEYS .* or AUTH=off to run the API open/);
    const bad = start({ AUTH: '', API_KEYS: 'editor:this-one-is-long-enough:evnts' });
    expect(await bad.exited).toBe(2);
    const out = bad.output.join('');
    expect(out).toMatch(/API_KEYS entry 1 \(editor\): unknown scope "evnts"/);
    expect(out).not.toContain('this-one-is-long-enough');
  });

  it('AUTH=off runs open and says so', async () => {
    const api = start({ AUTH: 'off' });
    const port = await api.port;
    expect(api.output.join('')).toMatch(/"auth":"OPEN \(AUTH=off\)/);
    await eventually(
      async () => expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200),
      30_000,
      200,
    );
    const res = await fetch(`http://127.0.0.1:${port}/recommend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
    });
    expect(res.status).toBe(200);
  });

  it('401/403/415/405/429/414/431 as JSON, /health and /ready open, and no secret in the log', async () => {
    const api = start({ AUTH: '', API_KEYS, RATE_LIMIT_PER_MIN: '60', RATE_LIMIT_BURST: '4' });
    const port = await api.port;
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await eventually(async () => expect((await fetch(`${url}/ready`)).status).toBe(200), 30_000, 200);
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/recommend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: BODY,
      });
    const bearer = (k: keyof typeof SECRETS) => ({ authorization: `Bearer ${SECRETS[k]}` });

    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toMatchObject({ error: 'unauthorized', retriable: false });
    expect((await post({ authorization: 'Bearer not-a-configured-key' })).status).toBe(401);
    const forbidden = await post(bearer('reader'));
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'forbidden' });

    // The editor's bucket holds 4: a 415, three answers, then 429.
    const text = await post({ ...bearer('editor'), 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: 'unsupported_media_type' });
    for (let i = 0; i < 3; i++) expect((await post(bearer('editor'))).status).toBe(200);
    const limited = await post(bearer('editor'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited', retriable: true });
    // Reads are not rate-limited; the reader's scope covers them.
    expect((await fetch(`${url}/clusters`, { headers: bearer('reader') })).status).toBe(200);

    for (const method of ['OPTIONS', 'TRACE', 'PUT', 'GET']) {
      const r = await raw(port, method, '/recommend');
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('POST');
      expect(JSON.parse(r.body)).toMatchObject({ error: 'method_not_allowed' });
    }
    const longPath = await raw(port, 'GET', `/users/${'x'.repeat(100_000)}/profile`);
    expect(longPath.status).toBe(414);
    expect(JSON.parse(longPath.body)).toMatchObject({ error: 'uri_too_long' });
    const bigHeaders = await raw(port, 'GET', '/health', { 'x-filler': 'y'.repeat(50_000) });
    expect(bigHeaders.status).toBe(431);
    expect(JSON.parse(bigHeaders.body)).toMatchObject({ error: 'headers_too_large' });
    // Past the Node server's own limit the answer is still the JSON error shape.
    const huge = await raw(port, 'GET', '/health', { 'x-filler': 'y'.repeat(400_000) });
    expect(huge.status).toBe(431);
    expect(JSON.parse(huge.body)).toMatchObject({ error: 'headers_too_large', retriable: false });
    expect((await fetch(`${url}/health`)).headers.get('x-content-type-options')).toBe('nosniff');

    const log = api.output.join('');
    expect(log).toMatch(/editor \[events\], reader \[profiles\]/);
    for (const s of Object.values(SECRETS)) expect(log).not.toContain(s);
  });

  it('with API_WORKERS=2 both processes spend one budget per key (the buckets are in Redis)', async () => {
    const api = start({
      AUTH: '',
      API_KEYS,
      API_WORKERS: '2',
      RATE_LIMIT_PER_MIN: '6',
      RATE_LIMIT_BURST: '6',
    });
    const port = await api.port;
    await eventually(
      async () => expect(api.output.join('').match(/"msg":"ready"/g)?.length).toBe(2),
      30_000,
      200,
    );
    await eventually(async () => expect((await raw(port, 'GET', '/ready')).status).toBe(200), 30_000, 200);
    // A new connection each time: the primary deals connections to the two workers in turn, so
    // per-process buckets would let 12 through.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await raw(
        port,
        'POST',
        '/recommend',
        {
          authorization: `Bearer ${SECRETS.editor}`,
          'content-type': 'application/json',
          connection: 'close',
        },
        BODY,
      );
      statuses.push(r.status);
    }
    const ok = statuses.filter((x) => x === 200).length;
    // 6 a minute refills one every 10 s: the run may earn one more.
    expect(ok, statuses.join(',')).toBeGreaterThanOrEqual(6);
    expect(ok, statuses.join(',')).toBeLessThanOrEqual(7);
    expect(statuses.filter((x) => x === 429).length).toBe(12 - ok);
  });
});
