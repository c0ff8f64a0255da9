import { type ApiKey, ApiKeyConfigError, parseApiKeys } from './keys.ts';

/** Who may call the API: the configured keys, or everyone (and why, for the start-up line). */
export type AuthConfig =
  | { readonly mode: 'keys'; readonly keys: readonly ApiKey[] }
  | { readonly mode: 'open'; readonly reason: string };

export interface AuthEnv {
  readonly API_KEYS?: string;
  readonly API_KEYS_FILE?: string;
  /** `off`: run open on purpose; anything else (or nothing) means keys are required. */
  readonly AUTH?: string;
}

/**
 * The auth mode from the environment. `npm run api` passes `openWithoutKeys: false`: without keys
 * it refuses to start unless AUTH=off; the embedded wheel (`npm start`) passes true and runs open.
 * Throws an ApiKeyConfigError (never quoting a secret) for bad or contradictory settings.
 *
 * @example
 * const auth = loadAuthConfig(env, { openWithoutKeys: false, readFile: (p) => readFileSync(p, 'utf8') });
 */
export function loadAuthConfig(
  env: AuthEnv,
  o: { readonly openWithoutKeys: boolean; readonly readFile: (path: string) => string },
): AuthConfig {
  const auth = env.AUTH?.trim().toLowerCase();
  if (auth !== undefined && auth !== '' && auth !== 'on' && auth !== 'off')
    throw new ApiKeyConfigError(`AUTH must be on or off, got "${env.AUTH?.slice(0, 20)}"`);
  const inline = env.API_KEYS?.trim() ? env.API_KEYS : undefined;
  const file = env.API_KEYS_FILE?.trim() ? env.API_KEYS_FILE : undefined;
  if (auth === 'off') {
    if (inline || file)
      throw new ApiKeyConfigError('AUTH=off and API keys are both set: say which one is meant');
    return { mode: 'open', reason: 'AUTH=off' };
  }
  const keys: ApiKey[] = inline ? parseApiKeys(inline, 'API_KEYS') : [];
  if (file) {
    let text: string;
    try {
      text = o.readFile(file);
    } catch (err) {
      throw new ApiKeyConfigError(`API_KEYS_FILE ${file}: cannot read it (${(err as Error).message})`);
    }
    const fromFile = parseApiKeys(text, `API_KEYS_FILE ${file}`, { lines: true });
    if (fromFile.length === 0) throw new ApiKeyConfigError(`API_KEYS_FILE ${file}: holds no key`);
    for (const k of fromFile) {
      if (keys.some((x) => x.name === k.name))
        throw new ApiKeyConfigError(`API_KEYS_FILE ${file}: the name ${k.name} is also in API_KEYS`);
      if (keys.some((x) => x.digest.equals(k.digest)))
        throw new ApiKeyConfigError(
          `API_KEYS_FILE ${file} (${k.name}): the same secret as a key in API_KEYS`,
        );
      keys.push(k);
    }
  }
  if (keys.length > 0) return { mode: 'keys', keys };
  if (auth === 'on' || !o.openWithoutKeys)
    throw new ApiKeyConfigError(
      'no API keys: set API_KEYS (name:secret:scope|scope,…) or API_KEYS_FILE, or AUTH=off to run the API open',
    );
  return { mode: 'open', reason: 'no API_KEYS set' };
}

/** The start-up line about auth: key names and scopes, never secrets. */
export function describeAuth(a: AuthConfig): string {
  if (a.mode === 'open') return `OPEN (${a.reason}): every route answers without a key`;
  return `${a.keys.length} API key(s): ${a.keys.map((k) => `${k.name} [${[...k.scopes].join('|')}]`).join(', ')}`;
}
