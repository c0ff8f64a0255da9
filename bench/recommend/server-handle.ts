import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../lib/common.ts';
import type { CpuMessage, InProcessDone, ReadyMessage, ServeParams } from './protocol.ts';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

/** The parent's handle on the server child: its ready message, CPU readings, profiles, stop. */
export interface Server {
  readonly child: ChildProcess;
  readonly ready: ReadyMessage;
  cpu(): Promise<CpuMessage>;
  /** V8 CPU profile of the server between start and stop (inspector, in the child). */
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<string>;
  /** Search + scoring in process in every worker at once for `durationMs` (in-process.ts). */
  inProcess(durationMs: number): Promise<InProcessDone>;
  stop(): Promise<Stopped>;
}

/** What the server counted: events emitted, and searches that failed (answers degraded). */
export interface Stopped {
  readonly emitted: number;
  readonly emittedBytes: number;
  readonly searchErrors: number;
}

export async function startServer(params: ServeParams): Promise<Server> {
  const execArgv = ['--import', 'tsx'];
  const child = fork(SERVER, [JSON.stringify(params)], { cwd: ROOT, execArgv, stdio: 'inherit' });
  const waiting = new Map<number, (m: CpuMessage) => void>();
  let stopped: ((m: Stopped) => void) | null = null;
  let inProcessDone: ((m: InProcessDone) => void) | null = null;
  let nextId = 1;
  let onProfile: ((m: Record<string, unknown>) => void) | null = null;
  const profileCall = (msg: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve) => {
      onProfile = resolve;
      child.send(msg);
    });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench server exited (${code}) before it was ready`)));
    child.on('message', (m: { type: string } & Record<string, unknown>) => {
      if (m.type === 'ready') resolve(m as unknown as ReadyMessage);
      else if (m.type === 'cpu') waiting.get(m.id as number)?.(m as unknown as CpuMessage);
      else if (m.type === 'stopped') stopped?.(m as unknown as Stopped);
      else if (m.type === 'in-process-done') inProcessDone?.(m as unknown as InProcessDone);
      else if (m.type === 'profile-started' || m.type === 'profile-stopped') onProfile?.(m);
    });
  });
  return {
    child,
    ready,
    cpu: () =>
      new Promise<CpuMessage>((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ type: 'cpu', id });
      }),
    profileStart: async () => {
      await profileCall({ type: 'profile-start' });
    },
    profileStop: async (file) => (await profileCall({ type: 'profile-stop', file })).file as string,
    inProcess: (durationMs) =>
      new Promise<InProcessDone>((resolve) => {
        inProcessDone = resolve;
        child.send({ type: 'in-process', durationMs });
      }),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const counts = await new Promise<Stopped>((resolve) => {
        stopped = resolve;
        child.send({ type: 'stop' });
      });
      await exited;
      return counts;
    },
  };
}
