import type { MiddlewareHandler } from 'hono';

/**
 * The headers Hono's `secureHeaders()` sets with its defaults (test/unit/api/http/
 * secure-headers.unit.test.ts checks that they still are), lower-cased as a Headers object
 * lists them.
 */
export const SECURE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});
const ENTRIES = Object.entries(SECURE_HEADERS);
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  ...SECURE_HEADERS,
});

/** Responses built with the secure headers already in: the middleware leaves them as they are. */
const secured = new WeakSet<Response>();

/**
 * A JSON answer with the secure headers in its plain header object. Under @hono/node-server a
 * response whose headers are a plain object is written with one `writeHead`; setting headers on
 * it afterwards (what `secureHeaders()` does to every response) first turns them into a web
 * Headers object, then back — a few per cent of a /recommend. Same bytes as `c.json(body)` plus
 * the middleware's headers.
 *
 * @example
 * return securedJson(response); // instead of c.json(response)
 */
export function securedJson(body: unknown, status = 200): Response {
  return securedJsonText(JSON.stringify(body), status);
}

/** {@link securedJson} of a body already written as JSON text. */
export function securedJsonText(json: string, status = 200): Response {
  const res = new Response(json, { status, headers: JSON_HEADERS });
  secured.add(res);
  return res;
}

/**
 * Hono's `secureHeaders()` with its defaults (the same headers, overwritten, and no
 * `X-Powered-By`), except for responses {@link securedJson} built, which already carry them.
 *
 * @example
 * app.use('*', secureResponseHeaders());
 */
export function secureResponseHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const res = c.res;
    if (secured.has(res)) return;
    const h = res.headers;
    for (const [k, v] of ENTRIES) h.set(k, v);
    h.delete('x-powered-by');
  };
}
