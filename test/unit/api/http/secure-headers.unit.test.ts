import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { describe, expect, it } from 'vitest';
import { SECURE_HEADERS, securedJson, secureResponseHeaders } from '../../../../api/http/secure-headers.ts';

const headersOf = (res: Response) => Object.fromEntries(res.headers.entries());

describe('secure response headers', () => {
  it("are exactly Hono's secureHeaders() defaults, on c.json answers and on securedJson ones", async () => {
    const hono = new Hono();
    hono.use('*', secureHeaders());
    hono.get('/x', (c) => c.json({ ok: true }));
    const ours = new Hono();
    ours.use('*', secureResponseHeaders());
    ours.get('/x', (c) => c.json({ ok: true }));
    ours.get('/fast', () => securedJson({ ok: true }));
    ours.get('/powered', (c) => c.text('hi', 200, { 'x-powered-by': 'test', 'x-frame-options': 'DENY' }));

    const expected = headersOf(await hono.request('/x'));
    expect(expected['x-content-type-options']).toBe('nosniff');
    expect(headersOf(await ours.request('/x'))).toEqual(expected);
    const fast = await ours.request('/fast');
    expect(headersOf(fast)).toEqual(expected);
    expect(await fast.json()).toEqual({ ok: true });
    // Every header of the defaults, overwritten, and X-Powered-By removed, as secureHeaders() does.
    const powered = headersOf(await ours.request('/powered'));
    expect(powered['x-powered-by']).toBeUndefined();
    expect(powered['x-frame-options']).toBe('SAMEORIGIN');
    const { 'content-type': _, ...secure } = expected;
    expect(secure).toEqual(SECURE_HEADERS);
  });

  it('securedJson answers the status it is given', async () => {
    const res = securedJson({ error: 'x' }, 409);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/json');
  });
});
