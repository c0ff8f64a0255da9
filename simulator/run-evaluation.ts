import type { ApiSecurity } from '../api/app.ts';
import type { Paraphraser } from '../api/paraphrase/paraphraser.ts';
import type { ScoringConfig } from '../api/scoring/index.ts';
import { createEmbeddedWheel, type EmbeddedWheel } from '../app/embedded-wheel.ts';
import type { Embedder } from '../streams/embeddings/embedder.ts';
import { evaluate, type RunReport } from './evaluate.ts';
import type { OfflineOnlineComparison } from './offline/compare.ts';
import type { RunLogs } from './offline/wheel-logs.ts';
import type { Persona } from './personas/schema.ts';
import type { ContextSample } from './pools/contexts.ts';
import type { ApiClient, Pacer, SessionRecord } from './simulate.ts';
import { simulate } from './simulate.ts';

export interface EvaluationOptions {
  readonly personas: readonly Persona[];
  readonly contexts: readonly ContextSample[];
  readonly sessions: number;
  readonly seed: number;
  readonly usersPerPersona?: number;
  /** Scorer settings for both passes (defaults: DEFAULT_SCORING_CONFIG). */
  readonly scoring?: Partial<ScoringConfig>;
  /** The wheel to run the personalised pass on (npm start serves its API meanwhile). */
  readonly wheel?: EmbeddedWheel;
  readonly onProgress?: (run: 'personalised' | 'baseline', done: number, total: number) => void;
  /** Estimate offline, from the personalised pass's logs, what this β would have had, and run it online to compare. */
  readonly compareBeta?: number;
  /** The personalised pass's logged A and H (the CLI keeps them for `npm run evaluate:offline`). */
  readonly onLogs?: (logs: RunLogs) => void;
  /** The embedder and variant A's paraphraser of both passes (default: the offline ones). */
  readonly models?: WheelModels;
}

/** `--embedder openai` / `--paraphraser openai`: what the wheels embed and paraphrase with. */
export interface WheelModels {
  readonly embedder?: Embedder;
  readonly paraphraser?: Paraphraser;
}

export interface EvaluationReport {
  readonly config: {
    seed: number;
    sessions: number;
    personas: string[];
    users_per_persona: number;
    clusters: number;
    embedder: string;
    paraphraser: string;
  };
  readonly personalised: RunReport;
  readonly baseline: RunReport;
  readonly lift: { hit_at_1: number; ndcg_at_3: number };
  readonly cold_start: RunReport['cold_start'];
  readonly timing: { personalised_s: number; baseline_s: number; sessions_per_s: number };
  /** With `compareBeta`: the offline estimate for that β next to an online run with it. */
  readonly offline_vs_online?: OfflineOnlineComparison;
}

/** In-process client: the Hono app's own `request`, no sockets. */
export function inProcessClient(wheel: EmbeddedWheel): ApiClient {
  return {
    async post(path, body) {
      const res = await wheel.app.request(path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(wheel.botKey ? { authorization: `Bearer ${wheel.botKey}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
  };
}

/** Simulated time for the bots; the stream catches up at the end of every round. */
export function wheelPacer(wheel: EmbeddedWheel): Pacer {
  return {
    wait: async (ms) => wheel.advance(ms),
    endOfRound: () => wheel.settle(),
  };
}

export function newWheel(
  seed: number,
  personalised: boolean,
  clusters: number,
  scoring?: Partial<ScoringConfig>,
  security?: ApiSecurity,
  models?: WheelModels,
) {
  let n = 0;
  return createEmbeddedWheel({
    embedder: models?.embedder,
    paraphraser: models?.paraphraser,
    personalised,
    seed,
    clusters,
    scoring,
    security,
    newId: () => `s${seed}-${personalised ? 'p' : 'b'}-${++n}`,
  });
}

async function run(
  o: EvaluationOptions,
  wheel: EmbeddedWheel,
  label: 'personalised' | 'baseline',
): Promise<{ records: SessionRecord[]; seconds: number }> {
  const t0 = performance.now();
  const records = await simulate(
    {
      personas: o.personas,
      contexts: o.contexts,
      sessions: o.sessions,
      seed: o.seed,
      usersPerPersona: o.usersPerPersona,
      onProgress: (d, t) => o.onProgress?.(label, d, t),
    },
    inProcessClient(wheel),
    wheelPacer(wheel),
  );
  return { records, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The personalisation evaluation: the same seeded bots against the wheel twice, with
 * personalisation on and off (β = 0, no cluster prior), measured against each persona's known
 * preference. Everything outside `timing` is identical for the same inputs and seed.
 */
export async function runEvaluation(o: EvaluationOptions): Promise<EvaluationReport> {
  const clusters = Math.max(2, Math.min(10, o.personas.length));
  const wheel = o.wheel ?? (await newWheel(o.seed, true, clusters, o.scoring, undefined, o.models));
  const p = await run(o, wheel, 'personalised');
  const b = await run(o, await newWheel(o.seed, false, clusters, o.scoring, undefined, o.models), 'baseline');
  const personalised = evaluate(p.records);
  const baseline = evaluate(b.records);
  // Dynamic: the comparison module imports this one (newWheel, the in-process client).
  const offline = await (await import('./offline/compare.ts')).offlineSection(o, wheel);
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    config: {
      seed: o.seed,
      sessions: o.sessions,
      personas: o.personas.map((x) => x.name),
      users_per_persona: o.usersPerPersona ?? 4,
      clusters,
      embedder: `${wheel.embedder.model}${wheel.embedder.offline ? ' (offline)' : ''}`,
      paraphraser: o.models?.paraphraser
        ? `${o.models.paraphraser.model} (${o.models.paraphraser.provider})`
        : 'offline-paraphraser-v1 (offline)',
    },
    personalised,
    baseline,
    lift: {
      hit_at_1: r4(personalised.hit_at_1 - baseline.hit_at_1),
      ndcg_at_3: r4(personalised.ndcg_at_3 - baseline.ndcg_at_3),
    },
    cold_start: personalised.cold_start,
    timing: {
      personalised_s: r4(p.seconds),
      baseline_s: r4(b.seconds),
      sessions_per_s: r4((2 * o.sessions) / (p.seconds + b.seconds)),
    },
    ...offline,
  };
}
