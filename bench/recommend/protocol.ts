import { join } from 'node:path';
import { RESULTS_DIR } from '../lib/common.ts';

/** The messages between the benchmark (parent) and its server child, and where profiles go. */

export const PROFILE_DIR = join(RESULTS_DIR, 'profiles');

export interface ServeParams {
  /** Lists probed per search (default: the index's own default). */
  readonly nprobe?: number;
  readonly users: number;
  readonly contexts: number;
  readonly dim: number;
  readonly koShare: number;
  readonly seed: number;
  /** Server processes sharing the ports (node:cluster), as `npm run api` runs with API_WORKERS. */
  readonly workers: number;
}

export interface ReadyMessage {
  readonly type: 'ready';
  readonly apiPort: number;
  readonly barePort: number;
  readonly build: Record<string, number>;
  readonly bodies: string[];
}
export interface CpuMessage {
  readonly type: 'cpu';
  readonly id: number;
  readonly cpuMicros: number;
  readonly eluActive: number;
  readonly eluIdle: number;
  readonly heapMb: number;
  readonly rssMb: number;
}
