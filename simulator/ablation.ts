import { DEFAULT_SCORING_CONFIG, type ScoringConfig } from '../api/scoring/index.ts';
import { evaluate, type RunReport } from './evaluate.ts';
import { seedPersonaClusters } from './persona-clusters.ts';
import { isContextDependent, type Persona } from './personas/schema.ts';
import { inProcessClient, newWheel, type WheelModels, wheelPacer } from './run-evaluation.ts';
import { type SimulationOptions, simulate } from './simulate.ts';

/**
 * The scorer's components switched on one at a time, all through α/β of the same scorer
 * (P_final = (1 − α − β)·P_vec + α·P_doc + β·P_user'):
 *
 * - `vec_only`:  α = 0, β = 0, no personalisation — the neighbours' options alone.
 * - `user_only`: α = 0, β = 1 — the user's history shrunk toward their cluster, nothing else.
 * - `baseline`:  the default α, β = 0, no cluster prior — what runs without personalisation.
 * - `full`:      the default blend.
 * - `full_context_cluster`: the default blend with P_cluster conditioned on the context
 *   (`clusterContextWeight` = 1), what a cold user's prior gains from the sentence.
 */
export const ABLATION_VARIANTS = [
  'vec_only',
  'user_only',
  'baseline',
  'full',
  'full_context_cluster',
] as const;
export type AblationVariant = (typeof ABLATION_VARIANTS)[number];

export interface AblationSetting {
  readonly personalised: boolean;
  readonly scoring: Partial<ScoringConfig>;
  readonly label: string;
}

/** The wheel settings of each variant, on top of the caller's scoring overrides. */
export function ablationSettings(
  base: Partial<ScoringConfig> = {},
): Readonly<Record<AblationVariant, AblationSetting>> {
  const alpha = base.alpha ?? DEFAULT_SCORING_CONFIG.alpha;
  const beta = base.beta ?? DEFAULT_SCORING_CONFIG.beta;
  return {
    vec_only: {
      personalised: false,
      scoring: { ...base, alpha: 0, beta: 0 },
      label: 'P_vec only (α=0, β=0)',
    },
    user_only: {
      personalised: true,
      scoring: { ...base, alpha: 0, beta: 1 },
      label: "P_user' only (α=0, β=1)",
    },
    baseline: {
      personalised: false,
      scoring: { ...base, alpha, beta: 0 },
      label: `baseline: P_vec + P_doc (α=${alpha}, β=0)`,
    },
    full: {
      personalised: true,
      scoring: { ...base, alpha, beta },
      label: `full blend (α=${alpha}, β=${beta})`,
    },
    full_context_cluster: {
      personalised: true,
      scoring: { ...base, alpha, beta, clusterContextWeight: 1 },
      label: 'full blend, P_cluster given the context (γ_c=1)',
    },
  };
}

/** The simulation's own options (same meanings and defaults as `simulate`), plus the ablation's. */
export interface AblationOptions
  extends Pick<
    SimulationOptions,
    'personas' | 'contexts' | 'sessions' | 'seed' | 'usersPerPersona' | 'cohortGap' | 'docFieldRate'
  > {
  readonly scoring?: Partial<ScoringConfig>;
  /** The embedder and paraphraser of every pass (default: the offline ones), as `runEvaluation`. */
  readonly models?: WheelModels;
  /** Personalised variants start with J seeded from the personas (`seedPersonaClusters`). */
  readonly seedClusters?: boolean;
  /** Variants to run (default all); reports already run elsewhere can be passed in `given`. */
  readonly variants?: readonly AblationVariant[];
  readonly given?: Partial<Record<AblationVariant, RunReport>>;
  readonly onProgress?: (variant: AblationVariant, done: number, total: number) => void;
}

export interface AblationRow {
  readonly variant: AblationVariant;
  readonly label: string;
  readonly hit_at_1: number;
  readonly ndcg_at_3: number;
  /** hit@1 of users' first session (no history: only context, doc field and cluster can help). */
  readonly first_session_hit_at_1: number;
  readonly cold_start: RunReport['cold_start'];
}

export interface AblationReport {
  /** `context-dependent` when any persona has `domains` or `preferred_by_domain`. */
  readonly regime: 'context-free' | 'context-dependent';
  readonly rows: readonly AblationRow[];
  readonly reports: Partial<Record<AblationVariant, RunReport>>;
}

/** `context-dependent` when any persona's choice depends on what it writes. */
export function regimeOf(personas: readonly Persona[]): AblationReport['regime'] {
  return personas.some(isContextDependent) ? 'context-dependent' : 'context-free';
}

/**
 * Runs the same seeded bots once per variant on a fresh embedded wheel and measures each against
 * the personas' expected options, so the difference between two rows is what a component adds.
 * The bots choose independently of the ranking, so every variant sees the same sessions.
 *
 * @example
 * const ab = await runAblation({ personas, contexts, sessions: 600, seed: 42 });
 * console.log(formatAblation(ab));
 */
export async function runAblation(o: AblationOptions): Promise<AblationReport> {
  const settings = ablationSettings(o.scoring);
  const clusters = Math.max(2, Math.min(10, o.personas.length));
  const reports: Partial<Record<AblationVariant, RunReport>> = { ...o.given };
  for (const v of o.variants ?? ABLATION_VARIANTS) {
    if (reports[v]) continue;
    const s = settings[v];
    const wheel = await newWheel(o.seed, s.personalised, clusters, s.scoring, undefined, o.models);
    if (o.seedClusters && s.personalised)
      await seedPersonaClusters(wheel.clusters, wheel.embedder, o.personas, o.contexts, wheel.now());
    const records = await simulate(
      {
        personas: o.personas,
        contexts: o.contexts,
        sessions: o.sessions,
        seed: o.seed,
        usersPerPersona: o.usersPerPersona,
        docFieldRate: o.docFieldRate,
        cohortGap: o.cohortGap,
        onProgress: (d, t) => o.onProgress?.(v, d, t),
      },
      inProcessClient(wheel),
      wheelPacer(wheel),
    );
    reports[v] = evaluate(records);
  }
  const rows = ABLATION_VARIANTS.filter((v) => reports[v]).map((v) => {
    const r = reports[v]!;
    return {
      variant: v,
      label: settings[v].label,
      hit_at_1: r.hit_at_1,
      ndcg_at_3: r.ndcg_at_3,
      first_session_hit_at_1: r.cold_start.find((c) => c.bucket === '0')?.hit_at_1 ?? 0,
      cold_start: r.cold_start,
    };
  });
  return { regime: regimeOf(o.personas), rows, reports };
}

/** The ablation as a terminal table: one row per variant, the cold-start curve in its columns. */
export function formatAblation(a: AblationReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const w = Math.max(...a.rows.map((r) => r.label.length), 10);
  const buckets = a.rows[0]?.cold_start.map((c) => c.bucket) ?? [];
  const lines = [
    `  ablation (${a.regime} personas)`,
    `  ${'variant'.padEnd(w)}  hit@1  NDCG@3 ${buckets.map((b) => `  ${`n=${b}`.padStart(6)}`).join('')}`,
  ];
  for (const r of a.rows) {
    lines.push(
      `  ${r.label.padEnd(w)} ${pct(r.hit_at_1)} ${pct(r.ndcg_at_3)} ${r.cold_start.map((c) => `  ${pct(c.hit_at_1)}`).join('')}`,
    );
  }
  lines.push(`  (columns n=…: hit@1 by the user's past sessions; chance is 1/|options|)`);
  return lines.join('\n');
}
