import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { type KMeansInput, kmeans } from './kmeans.ts';

// Re-clustering is background work: on a busy machine its CPU should go to the join and the
// profile fold first (their tail latency is the freshness of G). Linux schedules each thread on
// its own, and setpriority with a thread id (from /proc/thread-self) lowers only this thread.
// Elsewhere the worker keeps the process's priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW);
} catch {
  // no /proc or not permitted: run at the process's priority
}

/** Runs one k-means job per message, off the main event loop; buffers are transferred, not copied. */
parentPort?.on('message', (job: Omit<KMeansInput, 'onProgress'> & { id: number }) => {
  try {
    const res = kmeans({ ...job, onProgress: (f) => parentPort?.postMessage({ id: job.id, progress: f }) });
    const transfer = [res.centroids.buffer, res.assignments.buffer, res.sizes.buffer] as ArrayBuffer[];
    parentPort?.postMessage({ id: job.id, result: res }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id: job.id, error: (err as Error).message });
  }
});
