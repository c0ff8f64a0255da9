import { parentPort } from 'node:worker_threads';
import { type KMeansInput, kmeans } from './kmeans.ts';

// Loaded by kmeans-worker-entry.mjs, which has already lowered this thread's priority.

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
