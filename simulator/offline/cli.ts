/**
 * `npm run evaluate:offline -- [--alpha A] [--beta B] [--epsilon E] [--logs DIR] [--label NAME] [--mongo] [--out FILE]`
 *
 * Counterfactual evaluation of the scorer from logged A/H (see --help).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import {
  type OffPolicyEstimate,
  offPolicyEstimate,
  type TargetPolicy,
} from '../../analytics/counterfactual.ts';
import type { Interval } from '../../analytics/intervals.ts';
import { environment } from '../../common/environment.ts';
import { DEFAULT_MONGODB_DB, MONGO_COLLECTIONS } from '../../streams/stores/mongo-stores.ts';
import { readLogsFromMongo } from './mongo-logs.ts';
import { decisionsOfLogs, logPaths, type RunLogs, readRunLogs } from './wheel-logs.ts';

export const HELP = `usage: npm run evaluate:offline -- [--alpha A] [--beta B] [--epsilon E] [options]

Estimates, without new traffic, the hit@1 and the acceptance the recommender would have had with
other settings (α: weight of P_doc, β: weight of P_user', ε: exploration rate; an omitted one keeps
each session's logged value, so no flags estimates the logging policy itself).

How: every logged A carries, per option, the four score components (P_vec, P_doc, P_user,
P_cluster) and the propensity of being shown first under the ε-greedy policy that ran. The target
policy's scores are re-blended from those components with the scorer's formula
(P_final = (1−α−β)·P_vec + α·P_doc + β·(w·P_user + (1−w)·P_cluster), w recovered from the logged
score) and its ε-greedy propensities computed with the scorer's own explore(). Each session is
weighed by w = π_target(option shown first) / π_logged(option shown first):
  IPS   = mean(w·r)            unbiased, high variance when weights are large
  SNIPS = Σ w·r / Σ w          self-normalised, slightly biased, much steadier
with 95 % normal intervals (IPS: sd of w·r; SNIPS: delta method). r is, per session:
  hit@1      1 if the option shown first is the one the user paraphrased with, else 0
  acceptance 1 if the user kept a candidate (outcome accepted or edited), else 0
Only the latest revision of each session's H counts. The estimate is trustworthy where the target
mostly shows what the logging policy could show: see the effective sample size in the output.

Where the logs come from:
  --logs DIR      folder with <label>.h.jsonl (and <label>.a.jsonl, for the logged ε), as written by
                  npm run simulate (default reports/logs; label: --label, default personalised)
  --mongo         MongoDB instead: training_examples and the events archive, at MONGODB_URL /
                  MONGODB_DB (environment or .services.env)
Output: the table on stdout and JSON in --out (default reports/offline-evaluation.json).
Options: --confidence C (default 0.95), --help.`;

export function parseOfflineArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      alpha: { type: 'string' },
      beta: { type: 'string' },
      epsilon: { type: 'string' },
      logs: { type: 'string', default: 'reports/logs' },
      label: { type: 'string', default: 'personalised' },
      mongo: { type: 'boolean', default: false },
      out: { type: 'string', default: 'reports/offline-evaluation.json' },
      confidence: { type: 'string', default: '0.95' },
      help: { type: 'boolean', default: false },
    },
  });
  const unit = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n <= 1))
      throw new Error(`--${name} must be a number in [0, 1], got "${v}"`);
    return n;
  };
  const policy: TargetPolicy = {
    ...(values.alpha === undefined ? {} : { alpha: unit('alpha', values.alpha) }),
    ...(values.beta === undefined ? {} : { beta: unit('beta', values.beta) }),
    ...(values.epsilon === undefined ? {} : { epsilon: unit('epsilon', values.epsilon) }),
  };
  if ((policy.alpha ?? 0) + (policy.beta ?? 0) > 1 + 1e-12) throw new Error('--alpha + --beta must be <= 1');
  const confidence = Number(values.confidence);
  if (!(confidence > 0 && confidence < 1))
    throw new Error(`--confidence must be in (0, 1), got "${values.confidence}"`);
  return {
    policy,
    logs: values.logs,
    label: values.label,
    mongo: values.mongo,
    out: values.out,
    confidence,
    help: values.help,
  };
}

async function readMongo(url: string, db: string): Promise<RunLogs> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    return await readLogsFromMongo(client, db);
  } finally {
    await client.close();
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'n/a');
const iv = (i: Interval) => `${pct(i.estimate)} [${pct(i.low)}, ${pct(i.high)}]`;

/** The terminal table of an estimate. */
export function formatOfflineEstimate(e: OffPolicyEstimate, source: string, logging: string): string {
  const p = e.policy;
  const show = (name: string, v: number | undefined) => `${name} ${v === undefined ? 'as logged' : v}`;
  return [
    `offline evaluation of ${show('α', p.alpha)}, ${show('β', p.beta)}, ${show('ε', p.epsilon)} on ${e.sessions} logged sessions (${source})`,
    `  logging policy: ${logging}; its own hit@1 ${pct(e.logged.hitAt1)}, acceptance ${pct(e.logged.acceptance)}`,
    `  ${'metric'.padEnd(11)} ${'IPS'.padEnd(24)} SNIPS`,
    `  ${'hit@1'.padEnd(11)} ${iv(e.hitAt1.ips).padEnd(24)} ${iv(e.hitAt1.snips)}`,
    `  ${'acceptance'.padEnd(11)} ${iv(e.acceptance.ips).padEnd(24)} ${iv(e.acceptance.snips)}`,
    `  effective sample size ${e.effectiveSampleSize.toFixed(0)} of ${e.sessions}; greedy top unchanged in ${pct(e.sameTop)}; max weight ${e.maxWeight.toFixed(1)}${e.skipped > 0 ? `; ${e.skipped} sessions without a propensity left out` : ''}`,
  ].join('\n');
}

function loggingSummary(logs: RunLogs): string {
  const seen = new Set<string>();
  for (const h of logs.examples)
    if (h.recommended) seen.add(`α ${h.recommended.alpha}, β ${h.recommended.beta}`);
  const eps = new Set(logs.recommends.map((a) => a.epsilon));
  const list = [...seen].slice(0, 3).join(' | ') + (seen.size > 3 ? ` (+${seen.size - 3} more)` : '');
  return `${list || 'none'}${eps.size > 0 ? `, ε ${[...eps].join(' | ')}` : ', ε inferred from the propensities'}`;
}

export async function main(argv: string[]): Promise<number> {
  let o: ReturnType<typeof parseOfflineArgs>;
  try {
    o = parseOfflineArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  let logs: RunLogs;
  let source: string;
  try {
    if (o.mongo) {
      const env = environment();
      if (!env.MONGODB_URL)
        throw new Error('MONGODB_URL is not set (npm run services:up writes it to .services.env)');
      const db = env.MONGODB_DB?.trim() || DEFAULT_MONGODB_DB;
      logs = await readMongo(env.MONGODB_URL, db);
      source = `mongodb ${db}.${MONGO_COLLECTIONS.trainingExamples} + ${MONGO_COLLECTIONS.events}`;
    } else {
      const p = logPaths(o.logs, o.label);
      if (!existsSync(p.h))
        throw new Error(
          `no logs at ${p.h}: run npm run simulate first (it keeps them there), or pass --logs/--label/--mongo`,
        );
      logs = readRunLogs({ h: p.h, a: existsSync(p.a) ? p.a : undefined });
      source = p.h;
    }
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const estimate = offPolicyEstimate(decisionsOfLogs(logs), o.policy, { confidence: o.confidence });
  if (estimate.sessions === 0) {
    console.error(`no logged session with an A in ${source}`);
    return 1;
  }
  const logging = loggingSummary(logs);
  console.log(formatOfflineEstimate(estimate, source, logging));
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(
    o.out,
    `${JSON.stringify({ source, logging, confidence: o.confidence, ...estimate }, null, 2)}\n`,
  );
  console.log(`  written to ${o.out}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
