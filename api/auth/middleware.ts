import type { MiddlewareHandler } from 'hono';
import type { MetricsRegistry } from '../../common/metrics.ts';
import { ApiError } from '../errors.ts';
import { allowedMethods, type RegisteredRoute } from '../http/route-match.ts';
import type { AuthConfig } from './auth-config.ts';
import { type AuthenticatedKey, findKey, type Scope } from './keys.ts';
import type { RateLimiter } from './rate-limit.ts';
import { requiredAccess } from './scopes.ts';

/**
 * What the auth middleware puts in the Hono context: the key a request was made with, or null when
 * the route is open or the API runs open. Type a sub-app with it to read `c.get('apiKey')`.
 *
 * @example
 * new Hono<{ Variables: ApiKeyVariables }>().get('/x', (c) => c.text(c.get('apiKey')?.name ?? 'open'));
 */
export type ApiKeyVariables = { apiKey: AuthenticatedKey | null };

export interface AuthMiddlewareOptions {
  readonly auth: AuthConfig;
  /** Applied to the `events` routes, per key. */
  readonly limiter: RateLimiter;
  /** The app's routes, to find one the scope table leaves out (it then needs `admin`). */
  readonly routes: () => readonly RegisteredRoute[];
  readonly metrics: MetricsRegistry;
}

const REALM = 'Bearer realm="sentencify"';
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Authenticates with `Authorization: Bearer <key>`, checks the route's scope (api/auth/scopes.ts)
 * and the per-key rate limit of the write endpoints. 401/403/429 are ApiErrors, answered as JSON by
 * the app's one error mapping. Logs and metrics carry key names only.
 */
export function authMiddleware(o: AuthMiddlewareOptions): MiddlewareHandler<{ Variables: ApiKeyVariables }> {
  const m = o.metrics;
  const reject = (reason: string) =>
    m.inc('sentencify_auth_rejections_total', 'Requests refused by authentication or scope', { reason });
  return async (c, next) => {
    c.set('apiKey', null);
    const method = c.req.method;
    const path = c.req.path;
    let access = requiredAccess(method, path);
    if (access === null) {
      // Nothing serves it: the router answers 404 or 405 without asking for a key.
      if (!allowedMethods(o.routes(), path).includes(method)) return next();
      access = 'admin';
    }
    if (access === 'open' || o.auth.mode === 'open') return next();

    const header = c.req.header('authorization');
    if (header === undefined) {
      reject('missing');
      throw new ApiError('unauthorized', 'an API key is required: send Authorization: Bearer <key>', {
        status: 401,
        headers: { 'www-authenticate': REALM },
      });
    }
    const token = BEARER.exec(header)?.[1];
    const key = token === undefined ? null : findKey(o.auth.keys, token);
    if (key === null) {
      reject(token === undefined ? 'malformed' : 'unknown');
      throw new ApiError(
        'unauthorized',
        token === undefined ? 'the Authorization header must be Bearer <key>' : 'unknown API key',
        { status: 401, headers: { 'www-authenticate': `${REALM}, error="invalid_token"` } },
      );
    }
    const scope: Scope = access;
    if (!key.scopes.has(scope)) {
      reject('scope');
      throw new ApiError('forbidden', `the key ${key.name} lacks the ${scope} scope this route needs`, {
        status: 403,
      });
    }
    if (scope === 'events') {
      const d = await o.limiter.take(key.name);
      if (!d.ok) {
        m.inc('sentencify_rate_limited_total', 'Requests refused by the per-key rate limit', {
          key: key.name,
        });
        throw new ApiError('rate_limited', `the key ${key.name} is over its rate limit; retry later`, {
          status: 429,
          retriable: true,
          headers: { 'retry-after': String(d.retryAfterS) },
        });
      }
    }
    c.set('apiKey', { name: key.name, scopes: key.scopes });
    await next();
  };
}
