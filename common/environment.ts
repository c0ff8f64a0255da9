import { existsSync, readFileSync } from 'node:fs';

/**
 * The process environment, with `.services.env` (written by `npm run services:up`; another file
 * with SERVICES_ENV_FILE) filling in what it leaves unset. Read by the composition roots only.
 */
export function environment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  const file = process.env.SERVICES_ENV_FILE ?? '.services.env';
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) env[m[1]!] = m[2]!.trim();
    }
  }
  return { ...env, ...process.env };
}
