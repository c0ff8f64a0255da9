import { describe, expect, it } from 'vitest';
import { ACCESS_RULES, requiredAccess } from '../../../../api/auth/scopes.ts';
import { apiHarness } from '../../../helpers/api-harness.ts';

describe('requiredAccess', () => {
  it.each([
    ['GET', '/health', 'open'],
    ['HEAD', '/ready', 'open'],
    ['GET', '/openapi.json', 'open'],
    ['POST', '/recommend', 'events'],
    ['POST', '/paraphrase', 'events'],
    ['POST', '/select', 'events'],
    ['GET', '/users/u-1/profile', 'profiles'],
    ['HEAD', '/users/u-1/profile', 'profiles'],
    ['GET', '/clusters', 'profiles'],
    ['DELETE', '/users/u-1', 'admin'],
    ['GET', '/metrics', 'admin'],
    ['GET', '/dashboard', 'open'],
    ['GET', '/dashboard/app.js', 'open'],
    ['POST', '/dashboard/app.js', 'admin'],
    ['GET', '/dashboard/panels/x', 'admin'],
    ['POST', '/api/dashboard/query', 'admin'],
    ['GET', '/api/dashboard', 'admin'],
  ])('%s %s needs %s', (method, path, access) => {
    expect(requiredAccess(method, path)).toBe(access);
  });

  it.each([
    ['GET', '/recommend'],
    ['POST', '/health'],
    ['GET', '/users/u-1'],
    ['GET', '/users/u-1/profile/x'],
    ['GET', '/dashboards'],
    ['GET', '/nothing'],
  ])('%s %s is not in the table', (method, path) => {
    expect(requiredAccess(method, path)).toBeNull();
  });

  it('every route the app registers is in the table (a new route must say who may call it)', async () => {
    const h = await apiHarness();
    const routes = h.app.routes.filter((r) => r.method !== 'ALL');
    expect(routes.length).toBeGreaterThan(5);
    const example = (p: string) => p.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');
    const missing = routes.filter((r) => requiredAccess(r.method, example(r.path)) === null);
    expect(missing).toEqual([]);
    expect(ACCESS_RULES.filter((r) => r.access === 'open').map((r) => r.path)).toEqual([
      '/health',
      '/ready',
      '/openapi.json',
      '/dashboard',
      '/dashboard/:file',
    ]);
  });
});
