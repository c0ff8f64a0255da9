/**
 * `npm run simulate -- [--personas FILE] [--sessions N] [--seed S] [--report FILE] [--api URL]`
 *
 * Without --api: the evaluation on the embedded wheel (personalised and baseline passes, same seed).
 * With --api: the bots drive a running API over HTTP; there is no baseline pass then.
 * --compare-beta B (default 0.3, `none` to skip): the offline estimate for β = B from the
 * personalised pass's logs next to an online run with it. --keep-logs DIR (default reports/logs):
 * the personalised pass's A and H as JSON lines, for `npm run evaluate:offline`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { type ParaphraserChoice, paraphraserForChoice } from '../api/paraphrase/paraphraser-from-env.ts';
import { environment } from '../common/environment.ts';
import { type EmbedderChoice, embedderForChoice } from '../streams/embeddings/embedder-from-env.ts';
import { ABLATION_VARIANTS, formatAblation, regimeOf, runAblation } from './ablation.ts';
import { evaluate, formatReport } from './evaluate.ts';
import { formatComparison } from './offline/compare.ts';
import { writeRunLogs } from './offline/wheel-logs.ts';
import { DEFAULT_PERSONAS_PATH, loadPersonas } from './personas/schema.ts';
import { loadContextPool } from './pools/contexts.ts';
import { progressBar } from './progress.ts';
import { runEvaluation } from './run-evaluation.ts';
import { type ApiClient, simulate } from './simulate.ts';

const USAGE =
  'usage: npm run simulate -- [--personas FILE] [--sessions N] [--seed S] [--report FILE] [--api URL] [--users-per-persona N] [--compare-beta B|none] [--keep-logs DIR|none] [--embedder hashing|openai] [--paraphraser offline|openai] [--skip-ablation]';

export function parseSimulationArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      personas: { type: 'string', default: DEFAULT_PERSONAS_PATH },
      sessions: { type: 'string', default: '1500' },
      seed: { type: 'string', default: '42' },
      report: { type: 'string' },
      api: { type: 'string' },
      'users-per-persona': { type: 'string', default: '4' },
      'round-pause-ms': { type: 'string', default: '1000' },
      'compare-beta': { type: 'string', default: '0.3' },
      'keep-logs': { type: 'string', default: 'reports/logs' },
      // the ablation's extra passes (P_vec only, P_user' only, P_cluster given the context)
      'skip-ablation': { type: 'boolean', default: false },
      // openai: EMBEDDINGS_API_BASE / LLM_API_BASE from the environment or .services.env (--with-models).
      embedder: { type: 'string', default: 'hashing' },
      paraphraser: { type: 'string', default: 'offline' },
    },
  });
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
  if (values.api !== undefined && !/^https?:\/\//.test(values.api))
    throw new Error(`--api must be an http(s) URL, got "${values.api}"`);
  const compareBeta = values['compare-beta'] === 'none' ? undefined : Number(values['compare-beta']);
  if (compareBeta !== undefined && !(compareBeta >= 0 && compareBeta <= 1))
    throw new Error(`--compare-beta must be a number in [0, 1] or none, got "${values['compare-beta']}"`);
  if (values.embedder !== 'hashing' && values.embedder !== 'openai')
    throw new Error(`--embedder must be hashing or openai, got "${values.embedder}"`);
  if (values.paraphraser !== 'offline' && values.paraphraser !== 'openai')
    throw new Error(`--paraphraser must be offline or openai, got "${values.paraphraser}"`);
  return {
    embedder: values.embedder as EmbedderChoice,
    paraphraser: values.paraphraser as ParaphraserChoice,
    compareBeta,
    keepLogs: values['keep-logs'] === 'none' ? undefined : values['keep-logs'],
    ablation: !values['skip-ablation'],
    personas: values.personas,
    sessions: num('sessions', values.sessions, 1),
    seed: num('seed', values.seed, 0),
    report: values.report,
    api: values.api,
    usersPerPersona: num('users-per-persona', values['users-per-persona'], 1),
    roundPauseMs: num('round-pause-ms', values['round-pause-ms'], 0),
  };
}

/** `key`: the bearer key of an API that enforces keys (SENTENCIFY_API_KEY; `events` scope). */
function httpClient(base: string, key: string | undefined): ApiClient {
  return {
    async post(path, body) {
      const res = await fetch(new URL(path, base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof parseSimulationArgs>;
  try {
    opts = parseSimulationArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  let personas: ReturnType<typeof loadPersonas>;
  try {
    personas = loadPersonas(opts.personas);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const contexts = loadContextPool();
  let models: {
    embedder: ReturnType<typeof embedderForChoice>;
    paraphraser: ReturnType<typeof paraphraserForChoice>;
  };
  try {
    const env = environment();
    models = {
      embedder: embedderForChoice(opts.embedder, env, { dim: 384 }),
      paraphraser: paraphraserForChoice(opts.paraphraser, env),
    };
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  console.log(
    `simulating ${personas.length} personas from ${opts.personas}, ${opts.sessions} sessions, seed ${opts.seed}`,
  );
  let report: unknown;
  if (opts.api) {
    const t0 = performance.now();
    const records = await simulate(
      {
        personas,
        contexts,
        sessions: opts.sessions,
        seed: opts.seed,
        usersPerPersona: opts.usersPerPersona,
        onProgress: progressBar('sessions'),
      },
      httpClient(opts.api, process.env.SENTENCIFY_API_KEY),
      { wait: async () => {}, endOfRound: () => new Promise((r) => setTimeout(r, opts.roundPauseMs)) },
    );
    const personalised = evaluate(records);
    const baselineNote = 'no baseline pass against a remote API; run without --api for the comparison';
    console.log(formatReport(personalised, null));
    console.log(`  (${baselineNote})`);
    report = {
      config: {
        seed: opts.seed,
        sessions: opts.sessions,
        api: opts.api,
        personas: personas.map((p) => p.name),
      },
      personalised,
      baseline: null,
      baseline_note: baselineNote,
      cold_start: personalised.cold_start,
      timing: { seconds: (performance.now() - t0) / 1000 },
    };
  } else {
    const bars = { personalised: progressBar('personalised'), baseline: progressBar('baseline') };
    const r = await runEvaluation({
      personas,
      contexts,
      sessions: opts.sessions,
      seed: opts.seed,
      usersPerPersona: opts.usersPerPersona,
      onProgress: (run, d, t) => bars[run](d, t),
      compareBeta: opts.compareBeta,
      models,
      onLogs: opts.keepLogs
        ? (logs) => {
            const p = writeRunLogs(opts.keepLogs!, 'personalised', logs);
            console.log(`  logged A/H kept in ${p.a} and ${p.h}`);
          }
        : undefined,
    });
    console.log(formatReport(r.personalised, r.baseline));
    if (r.offline_vs_online) console.log(`\n${formatComparison(r.offline_vs_online)}`);
    // The full blend and the baseline are the two passes above; the ablation adds the others.
    const ablation = opts.ablation
      ? await runAblation({
          personas,
          contexts,
          sessions: opts.sessions,
          seed: opts.seed,
          usersPerPersona: opts.usersPerPersona,
          models,
          given: { full: r.personalised, baseline: r.baseline },
          onProgress: (() => {
            const ab = Object.fromEntries(ABLATION_VARIANTS.map((v) => [v, progressBar(v)]));
            return (v, d, t) => ab[v]!(d, t);
          })(),
        })
      : null;
    if (ablation) console.log(`\n${formatAblation(ablation)}`);
    report = { ...r, regime: regimeOf(personas), ablation: ablation?.rows ?? null };
  }
  if (opts.report) {
    mkdirSync(dirname(opts.report), { recursive: true });
    writeFileSync(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`  report written to ${opts.report}`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
