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
  /**
   * Read P_vec's neighbours from this Qdrant collection (already holding the same contexts,
   * `contextBatches`) instead of the in-process index.
   */
  readonly qdrant?: {
    readonly url: string;
    readonly apiKey?: string;
    readonly collection: string;
    readonly timeoutMs?: number;
  };
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

/** The parent asks every worker to run search + scoring in process for `durationMs`. */
export interface InProcessMessage {
  readonly type: 'in-process';
  readonly durationMs: number;
}
export interface InProcessDone {
  readonly type: 'in-process-done';
  /** Calls completed, summed over the workers. */
  readonly calls: number;
  /** The longest worker's wall time, ms. */
  readonly ms: number;
  /** CPU time the workers' processes spent over the run, ms, summed. */
  readonly cpuMs: number;
  readonly workers: number;
}
