import { createHash, timingSafeEqual } from 'node:crypto';

/** What a key may do; which routes need which scope is api/auth/scopes.ts. */
export const SCOPES = ['events', 'profiles', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** One configured key: its name (the only part ever logged), its secret's digest and its scopes. */
export interface ApiKey {
  readonly name: string;
  /** sha256 of the secret: the plain secret is not kept after parsing. */
  readonly digest: Buffer;
  readonly scopes: ReadonlySet<Scope>;
}

/** The caller a request was authenticated as, as routes and metrics see it (`c.get('apiKey')`). */
export interface AuthenticatedKey {
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** A key entry that cannot be used; the message names the entry, never its secret. */
export class ApiKeyConfigError extends Error {
  readonly code = 'invalid_api_keys';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyConfigError';
  }
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const SECRET = /^[\x21-\x7e]+$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/i;
/** Shorter plain secrets are guessable; a digest stands for a secret of unknown length. */
export const MIN_SECRET_LENGTH = 16;

export const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function parseEntry(entry: string, where: string): ApiKey {
  const parts = entry.split(':');
  if (parts.length !== 3)
    throw new ApiKeyConfigError(`${where}: expected name:secret:scope|scope…, got ${parts.length} part(s)`);
  const [name, secret, scopeList] = parts as [string, string, string];
  if (!NAME.test(name)) throw new ApiKeyConfigError(`${where}: the name must be 1-64 of A-Z a-z 0-9 . _ -`);
  let digest: Buffer;
  if (secret.startsWith('sha256=')) {
    const hex = secret.slice('sha256='.length);
    if (!HEX_DIGEST.test(hex))
      throw new ApiKeyConfigError(`${where} (${name}): sha256= must be followed by 64 hex digits`);
    digest = Buffer.from(hex, 'hex');
  } else {
    if (!SECRET.test(secret))
      throw new ApiKeyConfigError(`${where} (${name}): the secret must be printable ASCII without spaces`);
    if (secret.length < MIN_SECRET_LENGTH)
      throw new ApiKeyConfigError(
        `${where} (${name}): the secret is shorter than ${MIN_SECRET_LENGTH} characters`,
      );
    digest = sha256(secret);
  }
  const scopes = new Set<Scope>();
  for (const s of scopeList.split('|').map((x) => x.trim())) {
    if (!(SCOPES as readonly string[]).includes(s))
      throw new ApiKeyConfigError(
        `${where} (${name}): unknown scope "${s.slice(0, 20)}"; scopes are ${SCOPES.join(', ')}`,
      );
    scopes.add(s as Scope);
  }
  return { name, digest, scopes };
}

/**
 * Parses `API_KEYS` (comma-separated) or the lines of `API_KEYS_FILE` (one or more comma-separated
 * entries a line; `#` comments and blank lines skipped) into keys. Throws an ApiKeyConfigError
 * naming the entry or line and the key's name — never the secret — for anything it cannot use.
 *
 * @example
 * parseApiKeys('editor:0123456789abcdef:events|profiles', 'API_KEYS');
 * parseApiKeys('# ops\nops:sha256=9f86…:admin\n', 'API_KEYS_FILE', { lines: true });
 */
export function parseApiKeys(text: string, source: string, opts: { lines?: boolean } = {}): ApiKey[] {
  const keys: ApiKey[] = [];
  const lines = opts.lines ? text.split(/\r?\n/) : [text];
  lines.forEach((line, i) => {
    const content = opts.lines ? line.replace(/^\s*#.*$/, '') : line;
    const entries = content
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    entries.forEach((entry, j) => {
      const where = opts.lines
        ? `${source} line ${i + 1}${entries.length > 1 ? ` entry ${j + 1}` : ''}`
        : `${source} entry ${j + 1}`;
      const key = parseEntry(entry, where);
      if (keys.some((k) => k.name === key.name))
        throw new ApiKeyConfigError(`${where}: the name ${key.name} is given twice`);
      if (keys.some((k) => k.digest.equals(key.digest)))
        throw new ApiKeyConfigError(`${where} (${key.name}): the same secret as another key`);
      keys.push(key);
    });
  });
  return keys;
}

/**
 * The key whose secret `presented` is, or null. Digests are compared in constant time, and every
 * key is compared whatever matched, so the time taken says nothing about the secret or the keys.
 */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | null {
  const d = sha256(presented);
  let found: ApiKey | null = null;
  for (const k of keys) if (timingSafeEqual(k.digest, d) && found === null) found = k;
  return found;
}
