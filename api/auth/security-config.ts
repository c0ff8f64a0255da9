import { z } from 'zod';
import { envInt, issueLines, withoutBlanks } from '../../common/service-env.ts';
import type { ApiSecurity } from '../app.ts';
import { DEFAULT_TRANSPORT_LIMITS } from '../http/transport.ts';
import { loadAuthConfig } from './auth-config.ts';

/** High enough that the simulator and the benches never meet it; a key's own rate is far lower. */
export const DEFAULT_RATE_LIMIT_PER_MIN = 60_000;

/** The security variables, spread into each composition root's environment schema. */
export const securityEnvFields = {
  /** `name:secret:scope|scope…`, comma-separated; the secret may be `sha256=<hex>`. */
  API_KEYS: z.string().optional(),
  /** A file of the same entries, one or more a line; `#` comments and blank lines allowed. */
  API_KEYS_FILE: z.string().optional(),
  /** `off`: run open on purpose (npm run api refuses to start open otherwise). */
  AUTH: z.string().optional(),
  /** Requests a minute per key on the write endpoints (`events` scope); 0: no limit. */
  RATE_LIMIT_PER_MIN: envInt(DEFAULT_RATE_LIMIT_PER_MIN, 0),
  /** Requests a key may make at once after being idle; default a minute's worth. */
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).optional(),
  /** Origins allowed to call from a browser (CORS), comma-separated; none by default. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ message: 'each CORS origin must be a URL such as https://editor.example' }))),
  MAX_PATH_CHARS: envInt(DEFAULT_TRANSPORT_LIMITS.maxPathChars, 64),
  MAX_HEADER_BYTES: envInt(DEFAULT_TRANSPORT_LIMITS.maxHeaderBytes, 1_024).pipe(
    z.number().max(200_000, 'at most 200000 (the Node server reads up to 256 KiB of headers)'),
  ),
};

const securityEnvSchema = z.object(securityEnvFields);
export type SecurityEnv = z.infer<typeof securityEnvSchema>;

/**
 * The API's security settings from already-parsed variables. `openWithoutKeys`: true for the
 * embedded wheel (`npm start` runs open without keys), false for `npm run api` (refuses unless
 * AUTH=off). Throws a readable error naming the variable; never quotes a secret.
 *
 * @example
 * const security = securityFromEnv(env, { openWithoutKeys: false, readFile: (p) => readFileSync(p, 'utf8') });
 */
export function securityFromEnv(
  e: SecurityEnv,
  o: { readonly openWithoutKeys: boolean; readonly readFile: (path: string) => string },
): ApiSecurity {
  return Object.freeze({
    auth: loadAuthConfig(e, o),
    rateLimit: { perMinute: e.RATE_LIMIT_PER_MIN, burst: e.RATE_LIMIT_BURST },
    corsOrigins: Object.freeze(e.CORS_ORIGINS.map((u) => new URL(u).origin)),
    limits: { maxPathChars: e.MAX_PATH_CHARS, maxHeaderBytes: e.MAX_HEADER_BYTES },
  });
}

/** For a root whose environment has no schema of its own (`npm start`): parse just these variables. */
export function parseSecurityEnv(
  raw: Record<string, string | undefined>,
  o: { readonly openWithoutKeys: boolean; readonly readFile: (path: string) => string },
): ApiSecurity {
  const res = securityEnvSchema.safeParse(withoutBlanks(raw));
  if (!res.success) throw new Error(`invalid configuration:\n${issueLines(res.error).join('\n')}`);
  try {
    return securityFromEnv(res.data, o);
  } catch (err) {
    throw new Error(`invalid configuration:\n  ${(err as Error).message}`);
  }
}
