/**
 * `npm run api`: the recommend API against real services. With API_WORKERS = 1 (the default) this
 * process is the API (api/api-process.ts); with more, it is a node:cluster primary that only
 * supervises: the workers share the port, each a whole API process, and a SIGTERM/SIGINT here is
 * passed on to them so each drains and closes as it would alone.
 */
import cluster from 'node:cluster';
import { environment, logLine } from '../common/environment.ts';
import { createClusterAggregator } from '../common/metrics.ts';
import { parseApiConfig } from './config.ts';

const log = logLine;

let workers = 1;
try {
  workers = parseApiConfig(environment()).env.API_WORKERS;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}

if (workers > 1 && cluster.isPrimary) {
  let stopping = false;
  let exitCode = 0;
  const startedAt = new Map<number, number>();
  const fork = () => {
    const w = cluster.fork({ SENTENCIFY_API_WORKER: '1' });
    startedAt.set(w.id, Date.now());
  };
  // A worker asked for /metrics: the primary collects every worker's registry and sums them.
  const aggregator = createClusterAggregator();
  cluster.on('message', (w, msg: { type?: string; id?: string }) => {
    if (msg?.type !== 'sentencify:metrics-request') return;
    aggregator.render().then(
      (text) => w.send({ type: 'sentencify:metrics', id: msg.id, text }),
      (err: Error) => w.send({ type: 'sentencify:metrics', id: msg.id, error: err.message }),
    );
  });
  log('supervising API workers', { workers });
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    const lived = Date.now() - (startedAt.get(w.id) ?? 0);
    if (!stopping) {
      exitCode = code || 1;
      // A worker that dies at once (bad port, unreachable configuration) would die again: stop all.
      if (lived < 10_000) {
        log('worker failed at start: stopping', { worker: w.id, code, signal });
        stop();
      } else {
        log('worker exited: starting another', { worker: w.id, code, signal });
        fork();
        return;
      }
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await import('./api-process.ts');
}
