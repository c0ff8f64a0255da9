import { existsSync, readFileSync } from 'node:fs';

/** `NAME=value` lines of an env file such as `.services.env`; {} when there is no such file. */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/**
 * The process environment, with `.services.env` (written by `npm run services:up`; another file
 * with SERVICES_ENV_FILE) filling in what it leaves unset. Read by the composition roots only.
 */
export function environment(
  file = process.env.SERVICES_ENV_FILE ?? '.services.env',
): Record<string, string | undefined> {
  return { ...readEnvFile(file), ...process.env };
}

/** One JSON log line on stdout, the format every process of the project writes. */
export function logLine(msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), msg, ...extra })}\n`);
}
