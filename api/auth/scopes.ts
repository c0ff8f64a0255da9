import { compilePath, type PathMatcher } from '../http/route-match.ts';
import type { Scope } from './keys.ts';

/** One line of the access table: these methods (`*` any) on this Hono path pattern need this. */
export interface AccessRule {
  readonly methods: readonly string[] | '*';
  readonly path: string;
  readonly access: Scope | 'open';
}

/**
 * The one table of who may call what. Routes not built yet are listed too (erasure, the
 * dashboards), so they are protected the moment they are registered. A registered route missing
 * here needs `admin` (see `requiredAccess`), and test/unit/api/auth/scopes.unit.test.ts fails.
 */
export const ACCESS_RULES: readonly AccessRule[] = [
  // Load balancers and the contract: no key.
  { methods: ['GET'], path: '/health', access: 'open' },
  { methods: ['GET'], path: '/ready', access: 'open' },
  { methods: ['GET'], path: '/openapi.json', access: 'open' },
  // The write endpoints: what an editor calls while a user writes.
  { methods: ['POST'], path: '/recommend', access: 'events' },
  { methods: ['POST'], path: '/paraphrase', access: 'events' },
  { methods: ['POST'], path: '/select', access: 'events' },
  // Reading users' profiles and the clusters.
  { methods: ['GET'], path: '/users/:id/profile', access: 'profiles' },
  { methods: ['GET'], path: '/clusters', access: 'profiles' },
  // Erasure, metrics, dashboards.
  { methods: ['DELETE'], path: '/users/:id', access: 'admin' },
  { methods: ['GET'], path: '/metrics', access: 'admin' },
  // The dashboard's page and assets hold no data (a browser cannot send a Bearer header when it
  // opens a URL), so they are open; the page asks for an admin key and sends it to its JSON.
  { methods: ['GET'], path: '/dashboard', access: 'open' },
  { methods: ['GET'], path: '/dashboard/:file', access: 'open' },
  { methods: '*', path: '/dashboard/*', access: 'admin' },
  { methods: '*', path: '/api/dashboard/*', access: 'admin' },
];

const compiled: readonly (AccessRule & { match: PathMatcher })[] = ACCESS_RULES.map((r) => ({
  ...r,
  match: compilePath(r.path),
}));

/**
 * What a request needs: `open`, a scope, or null when the table does not list it (the caller
 * then decides: 404/405 for a path nothing serves, `admin` for a registered route left out).
 */
export function requiredAccess(method: string, path: string): Scope | 'open' | null {
  // Hono answers HEAD with the GET route.
  const m = method === 'HEAD' ? 'GET' : method;
  for (const r of compiled)
    if ((r.methods === '*' || r.methods.includes(m)) && r.match(path)) return r.access;
  return null;
}
