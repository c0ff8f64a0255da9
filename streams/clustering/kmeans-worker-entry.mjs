import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';

// Re-clustering is background work: on a busy machine its CPU should go to the join and the
// profile fold first (their tail latency is the freshness of G). Linux schedules each thread on
// its own, and setpriority with a thread id (from /proc/thread-self) lowers only this thread.
// It is lowered first thing, before the TypeScript loader starts and compiles the worker's
// modules: that start-up is most of the first run's CPU, and at the process's priority it held
// up the join for ~0.2–0.3 s on two cores (bench/freshness.ts). Elsewhere the worker keeps the
// process's priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW);
} catch {
  // no /proc or not permitted: run at the process's priority
}

// Worker threads do not inherit a TypeScript loader in every runner (vitest, plain node), so the
// worker registers tsx itself before loading the TypeScript worker module.
const { register } = await import('tsx/esm/api');
register();
await import('./kmeans-worker.ts');
