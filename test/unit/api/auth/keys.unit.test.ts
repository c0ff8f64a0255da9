import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../../../api/auth/auth-config.ts';
import { ApiKeyConfigError, findKey, parseApiKeys, sha256 } from '../../../../api/auth/keys.ts';

const SECRET = 'editor-secret-0123456789';
const OTHER = 'ops-secret-abcdefghijkl';

describe('parseApiKeys', () => {
  it('reads name:secret:scopes entries, keeping only the digest', () => {
    const keys = parseApiKeys(` editor:${SECRET}:events|profiles , ops:${OTHER}:admin`, 'API_KEYS');
    expect(keys.map((k) => [k.name, [...k.scopes]])).toEqual([
      ['editor', ['events', 'profiles']],
      ['ops', ['admin']],
    ]);
    expect(keys[0]!.digest.equals(sha256(SECRET))).toBe(true);
    expect(JSON.stringify(keys)).not.toContain(SECRET);
  });

  it('takes a sha256= digest instead of the secret', () => {
    const hex = sha256(SECRET).toString('hex');
    const [k] = parseApiKeys(`editor:sha256=${hex.toUpperCase()}:events`, 'API_KEYS');
    expect(findKey([k!], SECRET)?.name).toBe('editor');
  });

  it('reads a file: comments and blank lines skipped, errors name the line', () => {
    const text = `# editors\n\neditor:${SECRET}:events\n  # ops below\nops:${OTHER}:admin|profiles\n`;
    expect(parseApiKeys(text, 'keys.txt', { lines: true }).map((k) => k.name)).toEqual(['editor', 'ops']);
    expect(() => parseApiKeys(`# a\n\neditor:${SECRET}:evnts\n`, 'keys.txt', { lines: true })).toThrow(
      /keys.txt line 3 \(editor\): unknown scope "evnts"/,
    );
  });

  it.each([
    ['editor:tinysecret:events', /entry 1 \(editor\): the secret is shorter than 16/],
    [`editor:${SECRET}`, /entry 1: expected name:secret:scope/],
    [`editor:${SECRET}:events:x`, /expected name:secret:scope\|scope…, got 4 part/],
    [`ed itor:${SECRET}:events`, /the name must be/],
    [`editor:${SECRET}:`, /unknown scope ""/],
    ['editor:sha256=abc:events', /sha256= must be followed by 64 hex digits/],
    [`editor:${SECRET} x:events`, /printable ASCII without spaces/],
    [`a:${SECRET}:events,a:${OTHER}:admin`, /entry 2: the name a is given twice/],
    [`a:${SECRET}:events,b:${SECRET}:admin`, /entry 2 \(b\): the same secret as another key/],
  ])('refuses %s with a clear message that never quotes the secret', (entry, message) => {
    let err: unknown;
    try {
      parseApiKeys(entry, 'API_KEYS');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiKeyConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(SECRET);
    expect((err as Error).message).not.toContain('tinysecret');
  });
});

describe('findKey', () => {
  const keys = parseApiKeys(`editor:${SECRET}:events,ops:${OTHER}:admin`, 'API_KEYS');
  it('finds the key whose secret was presented, and none for anything else', () => {
    expect(findKey(keys, SECRET)?.name).toBe('editor');
    expect(findKey(keys, OTHER)?.name).toBe('ops');
    expect(findKey(keys, `${SECRET}x`)).toBeNull();
    expect(findKey(keys, '')).toBeNull();
    expect(findKey([], SECRET)).toBeNull();
  });
});

describe('loadAuthConfig', () => {
  const noFile = () => {
    throw new Error('ENOENT: no such file');
  };
  const api = { openWithoutKeys: false, readFile: noFile };
  const embedded = { openWithoutKeys: true, readFile: noFile };

  it('npm run api refuses to run open unless AUTH=off', () => {
    expect(() => loadAuthConfig({}, api)).toThrow(/no API keys: set API_KEYS .* or AUTH=off/);
    expect(loadAuthConfig({ AUTH: 'off' }, api)).toEqual({ mode: 'open', reason: 'AUTH=off' });
    expect(loadAuthConfig({ AUTH: 'OFF' }, api).mode).toBe('open');
  });

  it('the embedded wheel runs open without keys, and enforces them when given', () => {
    expect(loadAuthConfig({}, embedded)).toEqual({ mode: 'open', reason: 'no API_KEYS set' });
    const a = loadAuthConfig({ API_KEYS: `editor:${SECRET}:events` }, embedded);
    expect(a.mode === 'keys' && a.keys.map((k) => k.name)).toEqual(['editor']);
    expect(() => loadAuthConfig({ AUTH: 'on' }, embedded)).toThrow(/no API keys/);
  });

  it('joins API_KEYS and API_KEYS_FILE, and refuses contradictions', () => {
    const readFile = (p: string) => (p === 'k.txt' ? `# ops\nops:${OTHER}:admin\n` : noFile());
    const a = loadAuthConfig(
      { API_KEYS: `editor:${SECRET}:events`, API_KEYS_FILE: 'k.txt' },
      { ...api, readFile },
    );
    expect(a.mode === 'keys' && a.keys.map((k) => k.name)).toEqual(['editor', 'ops']);
    expect(() =>
      loadAuthConfig({ API_KEYS_FILE: 'k.txt', API_KEYS: `ops:${SECRET}:events` }, { ...api, readFile }),
    ).toThrow(/the name ops is also in API_KEYS/);
    expect(() => loadAuthConfig({ API_KEYS_FILE: 'missing.txt' }, api)).toThrow(
      /missing.txt: cannot read it/,
    );
    expect(() => loadAuthConfig({ API_KEYS_FILE: 'k.txt' }, { ...api, readFile: () => '# none\n' })).toThrow(
      /holds no key/,
    );
    expect(() => loadAuthConfig({ AUTH: 'off', API_KEYS: `editor:${SECRET}:events` }, api)).toThrow(
      /AUTH=off and API keys are both set/,
    );
    expect(() => loadAuthConfig({ AUTH: 'maybe' }, api)).toThrow(/AUTH must be on or off/);
  });
});
