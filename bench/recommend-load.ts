/**
 * recommend-load — POST /recommend over HTTP, against a bare Hono endpoint on the same machine.
 *
 *   npx tsx bench/recommend-load.ts [--quick] [--users 10000] [--contexts 100000] [--nprobe 8] [--connections 32]
 *                                   [--duration 15] [--rate 1000] [--rate-duration 30] [--cpu-prof] [--no-sweep]
 *                                   [--low-rate 200] [--in-process-duration = --duration] [--no-qdrant]
 *
 * The server runs in a child process (bench/recommend/server.ts): the machine has 2 cores, and a
 * load generator in the server's process would take the server's thread. The child builds the API
 * with `createApi` on in-memory stores loaded with synthetic users (realistic option counts and
 * per-option mean contexts of 384 dims), a few clusters and an IVF index of 100k past contexts,
 * then serves it with @hono/node-server next to a second server with a bare Hono app
 * (`GET /bare` → `{ ok: true }`, `POST /bare` → parse the JSON body, `{ ok: true }`). Events are
 * serialised (as the Kafka sink would) and dropped: the broker's cost is not measured here.
 *
 * Phases, after a warm-up: (a) the most requests/s autocannon gets from each endpoint, with the
 * same connections and duration (closed loop); (b) /recommend at a fixed 1,000 requests/s, twice:
 * from an open-loop generator that sends one request per millisecond and times each from when it
 * was due (coordinated-omission free: the headline p99), and with autocannon's `overallRate`, which
 * sends each connection's share of a second back to back at the start of the second (so it
 * measures 1,000-request bursts; reported for reference); (c) the open loop again at 25, 50 and
 * 75 % of the maximum, to show the rate at which the p99 target holds; (d) the open loop at 200 req/s
 * (`--low-rate`) on the in-process index; (a') right after (a), the route's search + scoring called in process
 * (bench/recommend/in-process.ts) in every worker at once for a fixed time, so that
 * `recommend_overhead_ratio` = (a)'s /recommend max ÷ that rate; (e) with a Qdrant at QDRANT_URL (or
 * in .services.env), the same contexts upserted into a fresh collection, a second server reading
 * P_vec from it, and the open loop at 200 req/s again (failed searches counted: those answers are
 * degraded); without one, (e) is skipped with the reason. Bodies rotate over 4,096 pre-built
 * requests (users, texts from simulator/data/contexts.csv, some with a document and field).
 *
 * Writes bench/results/recommend.json. `--cpu-prof` records the server's V8 CPU profile of the two
 * /recommend phases (max and fixed rate) to bench/results/profiles/; open them in Chrome DevTools,
 * or `npx tsx bench/recommend-load.ts --profile-summary <file>` for self time per function.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { environment } from '../common/environment.ts';
import { ROOT, round } from './lib/common.ts';
import { profileSummary } from './recommend/profile-summary.ts';
import { runRecommendBench } from './recommend/run-bench.ts';

export {
  type RecommendBenchOptions,
  type RecommendBenchResult,
  runRecommendBench,
} from './recommend/run-bench.ts';

// ─── entry point ──────────────────────────────────────────────────────────────────────────────

const isMain = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      users: { type: 'string' },
      contexts: { type: 'string' },
      dim: { type: 'string' },
      'ko-share': { type: 'string' },
      nprobe: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      'rate-duration': { type: 'string' },
      seed: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'no-sweep': { type: 'boolean', default: false },
      'profile-summary': { type: 'string' },
      workers: { type: 'string' },
      name: { type: 'string' },
      'low-rate': { type: 'string' },
      'in-process-duration': { type: 'string' },
      'no-qdrant': { type: 'boolean', default: false },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  if (args['profile-summary'] !== undefined) {
    const rows = profileSummary(args['profile-summary'], 1000);
    console.table(rows.slice(0, 30));
    // …and by file: which module the server's time goes to.
    const byFile = new Map<string, number>();
    for (const r of rows) {
      const file = r.fn.includes(' ') ? r.fn.slice(r.fn.lastIndexOf(' ') + 1) || '(native)' : '(native)';
      byFile.set(file, (byFile.get(file) ?? 0) + r.share);
    }
    console.table(
      [...byFile]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([file, share]) => ({ file, share: round(share, 3) })),
    );
  } else {
    // The Qdrant half reads QDRANT_URL (or .services.env from `npm run services:up`), and skips
    // with the reason when it is unset or does not answer.
    const env = environment(process.env.SERVICES_ENV_FILE ?? `${ROOT}/.services.env`);
    const url = env.QDRANT_URL;
    const qdrantSkip = args['no-qdrant']
      ? '--no-qdrant'
      : !url
        ? 'QDRANT_URL unset and not in .services.env (npm run services:up starts the local peer)'
        : await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
            (r) => (r.ok ? undefined : `${url} answered ${r.status}`),
            (e: Error) => `${url} unreachable (${e.message})`,
          );
    await runRecommendBench({
      qdrant:
        url && !qdrantSkip ? { url, ...(env.QDRANT_API_KEY ? { apiKey: env.QDRANT_API_KEY } : {}) } : null,
      qdrantSkip,
      lowRate: num(args['low-rate']),
      inProcessDuration: num(args['in-process-duration']),
      quick: args.quick,
      users: num(args.users),
      contexts: num(args.contexts),
      dim: num(args.dim),
      koShare: num(args['ko-share']),
      nprobe: num(args.nprobe),
      workers: num(args.workers),
      name: args.name,
      connections: num(args.connections),
      duration: num(args.duration),
      rate: num(args.rate),
      rateDuration: num(args['rate-duration']),
      seed: num(args.seed),
      cpuProf: args['cpu-prof'],
      sweep: !args['no-sweep'],
    });
    process.exit(0);
  }
}
