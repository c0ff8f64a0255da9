/**
 * Hono route patterns (`/users/:id/profile`, `/dashboard/*`) as predicates over a request path, so
 * the scope table and the 405 answer match paths the way the router does.
 */
export type PathMatcher = (path: string) => boolean;

const escapeRe = (s: string) => s.replace(/[.+?^${}()[\]\\|]/g, '\\$&');

export function compilePath(pattern: string): PathMatcher {
  // A trailing `/*` matches the path itself and anything below it, as in Hono.
  const wild = pattern.endsWith('/*');
  const base = wild ? pattern.slice(0, -2) : pattern;
  const body = base
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : escapeRe(seg)))
    .join('/');
  const re = new RegExp(`^${body}${wild ? '(?:/.*)?' : ''}$`);
  return (path) => re.test(path);
}

/** A route as Hono lists it in `app.routes`. */
export interface RegisteredRoute {
  readonly method: string;
  readonly path: string;
}

/**
 * The methods the app serves at `path` (HEAD wherever GET is, as Hono answers HEAD with GET's
 * route), from its registered routes; middleware (method ALL) does not count.
 */
export function allowedMethods(routes: readonly RegisteredRoute[], path: string): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    if (r.method === 'ALL' || r.path === '*' || r.path === '/*') continue;
    if (!compilePath(r.path)(path)) continue;
    out.add(r.method);
    if (r.method === 'GET') out.add('HEAD');
  }
  return [...out].sort();
}
