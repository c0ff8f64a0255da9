import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bodySizeLimit, rawHeaderBytes } from '../../../../api/http/transport.ts';
import { normaliseText } from '../../../../api/request-body.ts';
import { secureApp } from '../../../helpers/secure-app.ts';

const recommend = { user_id: 'u-1', text: 'Could you send me the report today?' };

describe('transport rules (app.request)', () => {
  it('415 for a POST whose body is not declared JSON; charset=utf-8 is fine', async () => {
    const { post } = await secureApp();
    for (const type of [
      '',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
    ]) {
      const res = await post('/recommend', recommend, 'editor', type);
      expect(res.status, type).toBe(415);
      expect(await res.json()).toMatchObject({ error: 'unsupported_media_type', retriable: false });
    }
    for (const type of [
      'application/json',
      'Application/JSON; charset=UTF-8',
      'application/json;charset="utf-8"',
    ])
      expect((await post('/recommend', recommend, 'editor', type)).status, type).toBe(200);
  });

  it('405 with Allow for a known path and a wrong method, before any key is asked for', async () => {
    const { call } = await secureApp();
    for (const method of ['GET', 'PUT', 'OPTIONS', 'DELETE', 'PATCH']) {
      const res = await call('/recommend', { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(await res.json()).toMatchObject({ error: 'method_not_allowed', retriable: false });
    }
    const profile = await call('/users/u-1/profile', { method: 'POST' });
    expect(profile.status).toBe(405);
    expect(profile.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers a CORS preflight only for an allow-listed origin', async () => {
    const { call } = await secureApp({ corsOrigins: ['https://editor.example'] });
    const preflight = (origin: string) =>
      call('/recommend', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const ok = await preflight('https://editor.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://editor.example');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(405);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A simple request from the listed origin gets the header; from another, none.
    const get = await call('/health', { headers: { origin: 'https://editor.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://editor.example');
    const none = await (await secureApp()).call('/health', { headers: { origin: 'https://editor.example' } });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sets the secure headers on every answer, errors included', async () => {
    const { call } = await secureApp();
    for (const res of [
      await call('/health'),
      await call('/recommend', { method: 'POST' }),
      await call('/nothing'),
    ]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('414 for an over-long path and 431 for over-large headers, as JSON', async () => {
    const { call } = await secureApp();
    const long = await call(`/users/${'x'.repeat(100_000)}/profile`);
    expect(long.status).toBe(414);
    expect(await long.json()).toMatchObject({ error: 'uri_too_long', retriable: false });
    const big = await call('/health', { headers: { 'x-filler': 'y'.repeat(20_000) } });
    expect(big.status).toBe(431);
    expect(await big.json()).toMatchObject({ error: 'headers_too_large' });
  });

  it('refuses lone surrogates anywhere in the body with a 400 that says so, and invalid UTF-8', async () => {
    const { post } = await secureApp();
    const lone = await post('/recommend', '{"user_id":"u-1","text":"Hi \\ud800 there."}', 'editor');
    expect(lone.status).toBe(400);
    const body = (await lone.json()) as { error: string; message: string };
    expect(body.error).toBe('invalid_unicode');
    expect(body.message).toMatch(/^text: .*lone surrogate \(invalid UTF-16\)/);
    const inKey = await post('/recommend', '{"user_id":"u-1","text":"Hi.","\\udc00":1}', 'editor');
    expect(inKey.status).toBe(400);
    expect(((await inKey.json()) as { error: string }).error).toBe('invalid_unicode');
    const bytes = await secureApp().then((s) =>
      s.call('/recommend', {
        method: 'POST',
        key: 'editor',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      }),
    );
    expect(bytes.status).toBe(400);
    expect(((await bytes.json()) as { error: string }).error).toBe('invalid_encoding');
  });
});

describe('normaliseText', () => {
  it('normalises every string value to NFC, however deep, and leaves the rest', () => {
    const decomposed = 'Cafe\u0301';
    const v = normaliseText(
      JSON.parse(JSON.stringify({ a: decomposed, b: [1, { c: decomposed }], d: null })),
    ) as {
      a: string;
      b: [number, { c: string }];
    };
    expect(v.a).toBe('Caf\u00e9');
    expect(v.b[1].c).toBe('Caf\u00e9');
    expect(v.b[0]).toBe(1);
    expect(normaliseText('Cafe\u0301')).toBe('Caf\u00e9');
    // Paired surrogates (emoji) are fine.
    expect(normaliseText({ t: '\ud83d\ude00' })).toEqual({ t: '\ud83d\ude00' });
  });

  it('names the path of a lone surrogate; a __proto__ key stays an own property', () => {
    expect(() => normaliseText({ a: [{ b: 'x\udc00' }] })).toThrow(/^a\.0\.b: /);
    expect(() => normaliseText({ a: '\ud800' })).toThrow(/lone surrogate/);
    const parsed = normaliseText(JSON.parse('{"__proto__":"Cafe\\u0301"}')) as object;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('Caf\u00e9');
  });

  it('walks a deeply nested body without exhausting the stack', () => {
    const deep = JSON.parse(`${'['.repeat(50_000)}"x"${']'.repeat(50_000)}`);
    expect(() => normaliseText(deep)).not.toThrow();
  });
});

describe('bodySizeLimit', () => {
  const limited = () => {
    const app = new Hono();
    app.use(
      '*',
      bodySizeLimit(10, (c) => c.json({ error: 'payload_too_large' }, 413)),
    );
    app.post('/echo', async (c) => c.text(await c.req.text()));
    app.get('/echo', (c) => c.text('get'));
    return app;
  };
  const chunked = (parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
        controller.close();
      },
    });

  it('judges a body by its Content-Length, as bodyLimit does, and leaves it readable', async () => {
    const app = limited();
    const ok = await app.request('/echo', {
      method: 'POST',
      body: '0123456789',
      headers: { 'content-length': '10' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('0123456789');
    // The header alone decides (the body is not read to find out).
    const over = await app.request('/echo', {
      method: 'POST',
      body: '0123',
      headers: { 'content-length': '11' },
    });
    expect(over.status).toBe(413);
    // GET and HEAD carry no body to limit.
    const get = await app.request('/echo', { headers: { 'content-length': '100' } });
    expect(get.status).toBe(200);
  });

  it('counts what it reads when there is no Content-Length (chunked), and passes the body on', async () => {
    const app = limited();
    const over = await app.request('/echo', {
      method: 'POST',
      body: chunked(['012345', '67890']),
      duplex: 'half',
    } as RequestInit);
    expect(over.status).toBe(413);
    const ok = await app.request('/echo', {
      method: 'POST',
      body: chunked(['01234', '5678']),
      duplex: 'half',
    } as RequestInit);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('012345678');
  });
});

describe('rawHeaderBytes', () => {
  it("counts Node's raw headers as the request's Headers object lists them", () => {
    const raw = [
      'Host',
      '127.0.0.1:3000',
      'Content-Type',
      'application/json',
      'X-Tag',
      'a',
      'x-tag',
      'bb',
      'Set-Cookie',
      'c=1',
      'set-cookie',
      'd=2',
      ':authority',
      'example',
    ];
    const headers = new Headers();
    for (let i = 0; i < raw.length; i += 2)
      if (!raw[i]!.startsWith(':')) headers.append(raw[i]!, raw[i + 1]!);
    let expected = 0;
    headers.forEach((v, k) => {
      expected += k.length + v.length + 4;
    });
    expect(rawHeaderBytes(raw)).toBe(expected);
    expect(rawHeaderBytes([])).toBe(0);
  });
});
