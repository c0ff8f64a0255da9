import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { ApiError } from '../errors.ts';

export interface TransportLimits {
  /** Longest path + query string, in characters (414 beyond). */
  readonly maxPathChars: number;
  /** Most bytes of header names and values together (431 beyond). */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = { maxPathChars: 4_096, maxHeaderBytes: 16_384 };

/** Header names and values as a Headers object lists them (repeats joined by ", "), + 4 bytes each. */
function headerBytes(headers: Headers): number {
  let bytes = 0;
  headers.forEach((v, k) => {
    bytes += k.length + v.length + 4;
  });
  return bytes;
}

/**
 * The same count from Node's raw header list (name, value, name, value…), which @hono/node-server
 * passes as `c.env.incoming`: iterating the request's Headers instead makes it build a web Headers
 * object of every header, on every request, that nothing else here needs (gets are answered from
 * Node's own parsed headers). A repeated name counts once, its values joined by ", ", as the
 * Headers object joins them (Set-Cookie is not joined); HTTP/2 pseudo-headers are not headers.
 */
export function rawHeaderBytes(raw: readonly string[]): number {
  let bytes = 0;
  let seen: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.startsWith(':')) continue;
    const lower = name.toLowerCase();
    seen ??= new Set();
    if (seen.has(lower) && lower !== 'set-cookie') bytes += 2 + raw[i + 1]!.length;
    else {
      seen.add(lower);
      bytes += name.length + raw[i + 1]!.length + 4;
    }
  }
  return bytes;
}

/**
 * Refuses an over-long path (414) or header block (431) with a JSON answer. The Node server lets
 * larger requests through up to its own `maxHeaderSize` (api/http/node-server.ts) so that these
 * answers, not its empty-bodied 431, are what a client sees.
 */
export function transportLimits(l: TransportLimits = DEFAULT_TRANSPORT_LIMITS): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const pathChars = pathStart < 0 ? 0 : url.length - pathStart;
    if (pathChars > l.maxPathChars)
      throw new ApiError('uri_too_long', `the path and query are over ${l.maxPathChars} characters`, {
        status: 414,
      });
    const raw = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming?.rawHeaders;
    const bytes = Array.isArray(raw) ? rawHeaderBytes(raw as string[]) : headerBytes(c.req.raw.headers);
    if (bytes > l.maxHeaderBytes)
      throw new ApiError('headers_too_large', `the headers are over ${l.maxHeaderBytes} bytes`, {
        status: 431,
      });
    await next();
  };
}

/**
 * CORS for the allow-listed origins only (none by default). A preflight from an origin not on the
 * list is not answered here, so it meets the same 405 as any other OPTIONS.
 */
export function corsAllowList(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  const handler = cors({
    origin: (o) => (allowed.has(o) ? o : null),
    allowMethods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    exposeHeaders: ['Retry-After', 'WWW-Authenticate', 'Idempotent-Replayed'],
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined || !allowed.has(origin)) return next();
    return handler(c, next);
  };
}

/** The 405 for a path served with other methods, with the `Allow` header RFC 9110 asks for. */
export function methodNotAllowed(method: string, path: string, allow: readonly string[]): ApiError {
  return new ApiError(
    'method_not_allowed',
    `${method} is not served on ${path.slice(0, 200)}; use ${allow.join(', ')}`,
    {
      status: 405,
      headers: { allow: allow.join(', ') },
    },
  );
}

/**
 * Hono's `bodyLimit`, without its cost on the usual request: a body announced by Content-Length
 * (and no Transfer-Encoding) is judged by that header alone, exactly as `bodyLimit` judges it,
 * but without reading `req.body` first. Under @hono/node-server that getter turns the server's
 * light request into a full web Request (undici: URL, Headers, AbortSignal, a ReadableStream over
 * the socket) and sends the body through web streams: about a tenth of a /recommend's CPU. Left
 * alone, the body is later read straight off the socket. Chunked bodies, and requests built
 * without the header (`app.request` in tests), still go through `bodyLimit`'s counting reader.
 *
 * @example
 * app.use('*', bodySizeLimit(1024 * 1024, () => { throw new ApiError('payload_too_large', '…', { status: 413 }); }));
 */
export function bodySizeLimit(
  maxSize: number,
  onError: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const counting = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const method = c.req.method;
    // No body to limit: `bodyLimit` passes these on as well (their `req.body` is null).
    if (method === 'GET' || method === 'HEAD' || method === 'TRACE') return next();
    const headers = c.req.raw.headers;
    const length = headers.get('content-length');
    if (length !== null && !headers.has('transfer-encoding')) {
      if (Number.parseInt(length || '0', 10) > maxSize) return onError(c);
      return next();
    }
    return counting(c, next);
  };
}
