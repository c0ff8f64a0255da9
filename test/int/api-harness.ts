import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './stream-harness.ts';

export interface ApiProcess {
  readonly proc: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
  /** The port it listens on, from its `listening` log line. */
  readonly port: Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `api/main.ts` (what `npm run api` runs) as its own process, on a port it picks. */
export function spawnApi(env: Record<string, string>): ApiProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
    cwd: ROOT,
    // AUTH=off unless the caller gives keys (pass AUTH: '' with API_KEYS): npm run api refuses to run open.
    env: {
      ...process.env,
      SERVICES_ENV_FILE: '/nonexistent',
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let resolvePort: (p: number) => void;
  let rejectPort: (e: Error) => void;
  const port = new Promise<number>((res, rej) => {
    resolvePort = res;
    rejectPort = rej;
  });
  // Only a caller that awaits the port hears of an early exit.
  port.catch(() => {});
  let partial = '';
  proc.stdout!.on('data', (b: Buffer) => {
    output.push(b.toString());
    partial += b.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = /"msg":"listening".*"port":(\d+)/.exec(line);
      if (m) resolvePort(Number(m[1]));
    }
  });
  proc.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      rejectPort(new Error(`the API exited (${code}) before listening:\n${output.join('')}`));
      resolve(code);
    }),
  );
  return {
    proc,
    output,
    exited,
    port,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export const client = (port: number) => ({
  async post(path: string, body: unknown) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  },
  async get(path: string) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, body: (json ? JSON.parse(text) : text) as Record<string, unknown> & string };
  },
});
