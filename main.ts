/**
 * `npm start`: the whole wheel in one process on embedded defaults. It serves the API, runs the
 * stream topology and the clustering behind it, drives it with bots playing the mined personas,
 * prints the personalisation evaluation, and keeps serving. Composition root.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { ApiSecurity } from './api/app.ts';
import { describeAuth } from './api/auth/auth-config.ts';
import { parseSecurityEnv } from './api/auth/security-config.ts';
import { answerClientErrorsWithJson, nodeServerOptions } from './api/http/node-server.ts';
import { formatReport } from './simulator/evaluate.ts';
import { DEFAULT_PERSONAS_PATH, loadPersonas } from './simulator/personas/schema.ts';
import { loadContextPool } from './simulator/pools/contexts.ts';
import { progressBar } from './simulator/progress.ts';
import { newWheel, runEvaluation } from './simulator/run-evaluation.ts';

const USAGE =
  'usage: npm start -- [--personas FILE] [--sessions N] [--seed S] [--report FILE] [--port P] [--users-per-persona N] [--exit]';

function options() {
  try {
    const { values } = parseArgs({
      options: {
        personas: { type: 'string', default: DEFAULT_PERSONAS_PATH },
        sessions: { type: 'string', default: '1500' },
        seed: { type: 'string', default: '42' },
        report: { type: 'string', default: 'reports/evaluation.json' },
        port: { type: 'string', default: '8080' },
        'users-per-persona': { type: 'string', default: '4' },
        exit: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const num = (name: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new Error(`--${name} must be an integer in [${min}, ${max}], got "${v}"`);
      return n;
    };
    return {
      personas: values.personas,
      sessions: num('sessions', values.sessions, 1),
      seed: num('seed', values.seed, 0),
      report: values.report,
      port: num('port', values.port, 0, 65535),
      usersPerPersona: num('users-per-persona', values['users-per-persona'], 1),
      exit: values.exit,
    };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const opts = options();
// Without API_KEYS the embedded wheel runs open (and says so below); with them it enforces them.
let security: ApiSecurity;
try {
  security = parseSecurityEnv(process.env, {
    openWithoutKeys: true,
    readFile: (p) => readFileSync(p, 'utf8'),
  });
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
let personas: ReturnType<typeof loadPersonas>;
try {
  personas = loadPersonas(opts.personas);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const contexts = loadContextPool();
const clusters = Math.max(2, Math.min(10, personas.length));
const wheel = await newWheel(opts.seed, true, clusters, undefined, security);
let ready = false;
const server = serve({
  fetch: (req) => {
    // /ready answers 503 until the evaluation has finished and the wheel is live.
    if (new URL(req.url).pathname === '/ready' && !ready) {
      return Response.json({ ready: false, reason: 'evaluation running' }, { status: 503 });
    }
    return wheel.app.fetch(req);
  },
  port: opts.port,
  hostname: '127.0.0.1',
  serverOptions: nodeServerOptions,
});
answerClientErrorsWithJson(server as Server);
server.on('error', (err) => {
  console.error(`cannot serve the API on 127.0.0.1:${opts.port}: ${err.message} (try --port)`);
  process.exit(1);
});
await new Promise((r) => server.once('listening', r));
const address = server.address();
const port = typeof address === 'object' && address ? address.port : opts.port;

console.log(`sentencify — the whole wheel on embedded defaults, API on http://127.0.0.1:${port}`);
console.log(
  security.auth.mode === 'open'
    ? '  auth: OPEN — no API_KEYS set, every route answers without a key (set API_KEYS to enforce keys)'
    : `  auth: ${describeAuth(security.auth)}`,
);
console.log(
  `  ${personas.length} personas from ${opts.personas}; ${opts.sessions} sessions, seed ${opts.seed}; embeddings ${wheel.embedder.model} and paraphrases offline-paraphraser-v1 (both offline, deterministic)`,
);
const bars = { personalised: progressBar('personalised'), baseline: progressBar('baseline') };
const report = await runEvaluation({
  personas,
  contexts,
  sessions: opts.sessions,
  seed: opts.seed,
  usersPerPersona: opts.usersPerPersona,
  wheel,
  onProgress: (run, d, t) => bars[run](d, t),
});
console.log('');
console.log(formatReport(report.personalised, report.baseline));
console.log(
  `  stream: ${wheel.stats.join.records} events joined into ${wheel.stats.join.examples} training examples (${wheel.stats.join.deadLetters} dead letters), ${await wheel.profiles.count()} profiles, ${(await wheel.clusters.clusters()).length} clusters, ${await wheel.index.size()} indexed contexts`,
);
mkdirSync(dirname(opts.report), { recursive: true });
writeFileSync(opts.report, `${JSON.stringify(report, null, 2)}\n`);
console.log(`  report: ${opts.report} (${report.timing.sessions_per_s} sessions/s)`);

if (opts.exit) {
  server.close();
  process.exit(0);
}
// LOG_RETENTION_MS: how long the embedded log keeps what every consumer group has committed past
// (default 1 h), so a long-running `npm start` does not grow ~10 KB per /recommend forever.
const retentionRaw = process.env.LOG_RETENTION_MS?.trim();
const logRetentionMs = retentionRaw ? Number(retentionRaw) : undefined;
if (logRetentionMs !== undefined && !(Number.isInteger(logRetentionMs) && logRetentionMs >= 0)) {
  console.error(`LOG_RETENTION_MS must be an integer >= 0 (ms), got "${retentionRaw}"`);
  process.exit(2);
}
const live = wheel.goLive(60_000, { logRetentionMs });
ready = true;
console.log(
  `\n  live: POST http://127.0.0.1:${port}/recommend  {"user_id": "${'sim-' + opts.seed + '-p0-u0'}", "text": "..."}  — Ctrl-C to stop`,
);
const stop = async () => {
  server.close();
  await live.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
