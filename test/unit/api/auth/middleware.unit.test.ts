import { describe, expect, it } from 'vitest';
import { secureApp, TEST_KEYS } from '../../../helpers/secure-app.ts';

const recommend = { user_id: 'u-1', text: 'Could you send me the report today?' };

describe('API keys and scopes (app.request)', () => {
  it('401 without a key or with an unknown one, as JSON with WWW-Authenticate', async () => {
    const { post, call } = await secureApp();
    for (const res of [
      await post('/recommend', recommend),
      await call('/recommend', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer nope-nope-nope-nope' },
        body: JSON.stringify(recommend),
      }),
      await call('/clusters', { headers: { authorization: `Basic ${TEST_KEYS.reader}` } }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="sentencify"/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ error: 'unauthorized', retriable: false });
      expect(typeof body.message).toBe('string');
    }
  });

  it('403 for a key without the route’s scope; 200 with it', async () => {
    const { post, call } = await secureApp();
    const denied = await post('/recommend', recommend, 'reader');
    expect(denied.status).toBe(403);
    const text = await denied.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'forbidden', retriable: false });
    expect(text).toContain('reader');
    expect(text).not.toContain(TEST_KEYS.reader);
    expect((await post('/recommend', recommend, 'editor')).status).toBe(200);
    expect((await call('/clusters', { key: 'editor' })).status).toBe(403);
    expect((await call('/clusters', { key: 'reader' })).status).toBe(200);
    expect((await call('/metrics', { key: 'reader' })).status).toBe(403);
    expect((await call('/metrics', { key: 'ops' })).status).toBe(200);
  });

  it('/health, /ready and /openapi.json need no key; unknown routes stay 404 without one', async () => {
    const { call } = await secureApp();
    expect((await call('/health')).status).toBe(200);
    expect((await call('/ready')).status).toBe(200);
    expect((await call('/openapi.json')).status).toBe(200);
    const nf = await call('/nothing-here');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ error: 'not_found' });
  });

  it('routes not registered yet but in the table need their scope first (erasure, dashboards)', async () => {
    const { call } = await secureApp();
    expect((await call('/dashboard/x/y')).status).toBe(401);
    expect((await call('/dashboard/x/y', { key: 'editor' })).status).toBe(403);
    expect((await call('/api/dashboard/y', { key: 'reader' })).status).toBe(403);
    expect((await call('/users/u-1', { method: 'DELETE' })).status).toBe(401);
    expect((await call('/users/u-1', { method: 'DELETE', key: 'reader' })).status).toBe(403);
  });

  it('an encoded or odd spelling of a protected path is no way around the key', async () => {
    const { call } = await secureApp();
    for (const p of ['/%72ecommend', '/%6detrics', '/users/a%2Fb/profile', '/dashboard/%2e%2e/metrics']) {
      const method = p.includes('ecommend') ? 'POST' : 'GET';
      expect((await call(p, { method })).status, p).toBe(401);
    }
    for (const p of ['/recommend%2F', '//recommend', '/Recommend', '/metrics/'])
      expect((await call(p, { method: 'POST' })).status, p).toBe(404);
  });

  it('puts the key name in the context and counts requests per key name, never the secret', async () => {
    const { post, call, wheel } = await secureApp();
    await post('/recommend', recommend, 'editor');
    await post('/recommend', recommend, 'reader');
    const text = await (await call('/metrics', { key: 'ops' })).text();
    expect(text).toMatch(/sentencify_http_requests_by_key_total\{key="editor"\} 1/);
    expect(text).toMatch(/sentencify_auth_rejections_total\{reason="scope"\} 1/);
    for (const s of Object.values(TEST_KEYS)) expect(text).not.toContain(s);
    // The in-process bots have a key of their own when keys are enforced.
    expect(wheel.botKey).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const bots = await call('/recommend', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${wheel.botKey}` },
      body: JSON.stringify(recommend),
    });
    expect(bots.status).toBe(200);
  });

  it('429 with Retry-After once a key is over its rate on the write endpoints; reads are not limited', async () => {
    const { post, call } = await secureApp({ rateLimit: { perMinute: 60, burst: 2 } });
    expect((await post('/recommend', recommend, 'editor')).status).toBe(200);
    expect((await post('/recommend', recommend, 'editor')).status).toBe(200);
    const limited = await post('/recommend', recommend, 'editor');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited', retriable: true });
    for (let i = 0; i < 5; i++) expect((await call('/clusters', { key: 'reader' })).status).toBe(200);
  });
});
