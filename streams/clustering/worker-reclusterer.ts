import { Worker } from 'node:worker_threads';
import {
  clusterProfilesFrom,
  type ReclusterInput,
  type ReclusterResult,
  userMatrix,
} from './cluster-profiles.ts';
import type { KMeansResult } from './kmeans.ts';

export interface Reclusterer {
  (input: ReclusterInput, onProgress?: (fraction: number) => void): Promise<ReclusterResult>;
  /**
   * Starts the worker now, so its start-up (a thread, an isolate, the TypeScript loader) is not
   * paid inside the first re-clustering, in the middle of the traffic that triggered it.
   */
  start(): void;
  close(): Promise<void>;
}

/**
 * Re-clusters in a worker thread: the main thread only packs the user vectors (transferred, not
 * copied) and derives J from the assignments, so the event loop keeps serving while k-means runs.
 *
 * @example
 * const reclusterer = createWorkerReclusterer();
 * const { clusters, assignments } = await reclusterer({ profiles, k: 8, seed: 1, ... });
 */
export function createWorkerReclusterer(): Reclusterer {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (r: KMeansResult) => void; reject: (e: Error) => void; progress?: (f: number) => void }
  >();
  const getWorker = () => {
    if (worker) return worker;
    const w = new Worker(new URL('./kmeans-worker-entry.mjs', import.meta.url));
    w.unref();
    w.on('message', (m: { id: number; result?: KMeansResult; error?: string; progress?: number }) => {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.progress !== undefined) return p.progress?.(m.progress);
      pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`k-means worker: ${m.error}`));
      else p.resolve(m.result!);
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      worker = null;
    });
    worker = w;
    return w;
  };
  const run = (async (input: ReclusterInput, onProgress?: (fraction: number) => void) => {
    const { users, data, dim } = userMatrix(input.profiles, input);
    if (users.length === 0) return { clusters: [], assignments: new Map(), kmeans: null };
    const id = nextId++;
    const res = await new Promise<KMeansResult>((resolve, reject) => {
      pending.set(id, { resolve, reject, progress: onProgress });
      const job = {
        id,
        data,
        n: users.length,
        dim,
        k: Math.min(input.k, users.length),
        seed: input.seed,
        initialCentroids: input.initialCentroids,
      };
      getWorker().postMessage(job, [data.buffer as ArrayBuffer]);
    });
    return { ...clusterProfilesFrom(users, res, input), kmeans: res };
  }) as Reclusterer;
  run.start = () => void getWorker();
  run.close = async () => {
    await worker?.terminate();
    worker = null;
  };
  return run;
}
