import type { ApiSecurity } from '../../api/app.ts';
import { parseApiKeys } from '../../api/auth/keys.ts';
import { createEmbeddedWheel } from '../../app/embedded-wheel.ts';

/** Secrets of the test keys: one key per scope, and one with every scope. */
export const TEST_KEYS = {
  editor: 'editor-secret-0123456789',
  reader: 'reader-secret-0123456789',
  ops: 'ops-secret-0123456789abc',
} as const;

export const TEST_API_KEYS = `editor:${TEST_KEYS.editor}:events,reader:${TEST_KEYS.reader}:profiles,ops:${TEST_KEYS.ops}:admin`;

/** The embedded wheel's API with the test keys enforced (and whatever else `security` says). */
export async function secureApp(security: Partial<ApiSecurity> = {}) {
  const wheel = await createEmbeddedWheel({
    embeddingDim: 64,
    clusters: 2,
    scoring: { epsilon: 0 },
    security: { auth: { mode: 'keys', keys: parseApiKeys(TEST_API_KEYS, 'API_KEYS') }, ...security },
  });
  const call = (path: string, init: RequestInit & { key?: keyof typeof TEST_KEYS } = {}) => {
    const headers = new Headers(init.headers);
    if (init.key) headers.set('authorization', `Bearer ${TEST_KEYS[init.key]}`);
    return wheel.app.request(path, { ...init, headers });
  };
  const post = (path: string, body: unknown, key?: keyof typeof TEST_KEYS, type = 'application/json') =>
    call(path, {
      method: 'POST',
      key,
      headers: type ? { 'content-type': type } : {},
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { wheel, app: wheel.app, call, post };
}
