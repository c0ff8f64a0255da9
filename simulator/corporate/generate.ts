import { mulberry32 } from '../../common/random.ts';
import {
  allOptions,
  type CorporateRow,
  DEFAULT_VOCABULARY,
  type Intensity,
  type OptionVocabulary,
  optionKey,
  parseOptionKey,
} from '../../schemas/index.ts';
import { type ContextSample, contextKey, indexContexts } from '../pools/contexts.ts';
import { DEFAULT_LATENT_TYPES, type LatentUserType } from './latent-types.ts';

export interface GenerateOptions {
  readonly users: number;
  readonly seed: number;
  /** Inclusive range of rows per user (default [15, 60]). */
  readonly rowsPerUser?: readonly [number, number];
  /** Planted user types (default `DEFAULT_LATENT_TYPES`). */
  readonly types?: readonly LatentUserType[];
  /** Sentences to fill `text` from, matched on category and language; without it `text` is left out. */
  readonly contexts?: readonly ContextSample[];
  readonly vocabulary?: OptionVocabulary;
  /** Event time of the export's first day (ms, default 2025-03-03T00:00Z); never the wall clock. */
  readonly startMs?: number;
  /** Weeks the export spans (default 8). */
  readonly weeks?: number;
  /** Share of rows drawn at random, ignoring the user's type (default 0.08). */
  readonly noise?: number;
  /** Uniform mass mixed into every type's option distribution (default 0.06). */
  readonly spread?: number;
  /** Log-normal jitter of each user's option weights around their type's (default 0.3). */
  readonly userJitter?: number;
  /**
   * Share of users who also do another type's job: 30% of their choices follow a second type
   * (default 0.1). Their ground truth stays their main type, so mining is scored on the hard case too.
   */
  readonly blend?: number;
}

export interface GeneratedSample {
  /** Rows in event-time order, as an export would list them. */
  readonly rows: CorporateRow[];
  /** user_id → latent type name: the ground truth mining is scored against, kept out of the rows. */
  readonly truth: Record<string, string>;
  readonly types: readonly LatentUserType[];
}

export const DEFAULT_START_MS = Date.UTC(2025, 2, 3);

/** Requests any user may type regardless of their habits; the noise rows draw from these. */
const GENERIC_PROMPTS: Readonly<Record<string, readonly string[]>> = {
  ko: ['다듬어줘', '자연스럽게 고쳐줘', '다시 써줘'],
  en: ['improve this', 'rewrite it', 'fix this sentence'],
};

const DAY_MS = 86_400_000;

/**
 * Generates a realistic corporate export D: users of several latent types, each with a preferred
 * option distribution (a main option plus spread), an acceptance rate, a Korean/English mix and a
 * pool of style requests, with per-user jitter and random noise rows. Pure and deterministic for a
 * seed; returns the ground-truth type of every user beside the rows.
 *
 * @example
 * const { rows, truth } = generateCorporateSample({ users: 200, seed: 42, contexts: loadContextPool() });
 */
export function generateCorporateSample(o: GenerateOptions): GeneratedSample {
  const [minRows, maxRows] = o.rowsPerUser ?? [15, 60];
  if (!Number.isInteger(o.users) || o.users < 1)
    throw new RangeError('generate: users must be an integer ≥ 1');
  if (!Number.isInteger(minRows) || !Number.isInteger(maxRows) || minRows < 1 || maxRows < minRows)
    throw new RangeError('generate: rowsPerUser must be integers with 1 ≤ min ≤ max');
  const vocab = o.vocabulary ?? DEFAULT_VOCABULARY;
  const types = o.types ?? DEFAULT_LATENT_TYPES;
  if (types.length === 0) throw new RangeError('generate: at least one latent type is needed');
  const keys = allOptions(vocab).map(optionKey);
  const noise = o.noise ?? 0.08;
  const spread = o.spread ?? 0.06;
  const jitter = o.userJitter ?? 0.3;
  const blend = o.blend ?? 0.1;
  const days = Math.max(1, Math.round((o.weeks ?? 8) * 7));
  const startMs = o.startMs ?? DEFAULT_START_MS;
  const pool = indexContexts(o.contexts ?? []);
  const byCategory = indexByCategory(o.contexts ?? []);

  const typeDists = types.map((t) => typeDistribution(t, keys, spread));
  // Per type: doc field → option distribution there (only for types with `domains`).
  const domainDists = types.map((t) => domainDistributions(t, keys, spread));
  const typeWeights = types.map((t) => t.weight);
  const rnd = mulberry32(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

  const rows: CorporateRow[] = [];
  const truth: Record<string, string> = {};
  const width = Math.max(4, String(o.users).length);
  for (let u = 0; u < o.users; u++) {
    const userId = `corp-u-${String(u + 1).padStart(width, '0')}`;
    const ti = sampleIndex(typeWeights, rnd);
    const type = types[ti]!;
    truth[userId] = type.name;
    let own = typeDists[ti]!;
    let other: number[] | null = null;
    if (types.length > 1 && rnd() < blend) {
      other = typeDists[(ti + 1 + Math.floor(rnd() * (types.length - 1))) % types.length]!;
      own = own.map((p, j) => 0.7 * p + 0.3 * other![j]!);
    }
    // The same draws, in the same order, as before types had domains: old samples stay the same.
    const mult = own.map(() => Math.exp(jitter * gauss()));
    const dist = normalise(own.map((p, j) => p * mult[j]!));
    const fields = domainDists[ti]!;
    const userFields = fields.map(([field, base, share]) => {
      const mixed = other ? base.map((p, j) => 0.7 * p + 0.3 * other![j]!) : base;
      return [field, normalise(mixed.map((p, j) => p * mult[j]!)), share] as const;
    });
    const fieldWeights = userFields.map(([, , w]) => w);
    const accept = clamp(type.acceptRate + 0.06 * gauss(), 0.02, 0.98);
    const langNames = Object.keys(type.languages);
    const langWeights = normalise(langNames.map((l) => type.languages[l]! * Math.exp(0.25 * gauss())));
    const company = pick(type.companies);
    const promptRate = type.promptRate ?? 0.6;
    const nRows = minRows + Math.floor(rnd() * (maxRows - minRows + 1));

    for (let r = 0; r < nRows; r++) {
      const language = langNames[sampleIndex(langWeights, rnd)] ?? 'ko';
      const field = userFields.length > 0 ? userFields[sampleIndex(fieldWeights, rnd)]! : null;
      const isNoise = rnd() < noise;
      const key = isNoise ? pick(keys) : keys[sampleIndex(field ? field[1] : dist, rnd)]!;
      const option = parseOptionKey(key);
      let prompt = '';
      if (isNoise) {
        if (rnd() < 0.3) prompt = pick(GENERIC_PROMPTS[language] ?? GENERIC_PROMPTS.en!);
      } else if (rnd() < promptRate) {
        const requests = type.prompts[language] ?? Object.values(type.prompts).flat();
        if (requests.length > 0) prompt = vary(requests[sampleIndex(zipf(requests.length), rnd)]!, rnd);
      }
      const accepted = rnd() < (isNoise ? 0.5 : accept);
      const textField = field ? field[0] : option.category;
      const candidates = pool.get(contextKey(textField, language)) ?? byCategory.get(textField);
      const text = candidates && candidates.length > 0 ? pick(candidates).text : undefined;
      // Mostly Korean office hours (UTC 00–10), sometimes any time.
      const hour = rnd() < 0.8 ? Math.floor(rnd() * 10) : Math.floor(rnd() * 24);
      const ms =
        startMs + Math.floor(rnd() * days) * DAY_MS + hour * 3_600_000 + Math.floor(rnd() * 3_600_000);
      rows.push({
        user_id: userId,
        ts: new Date(Math.floor(ms / 1000) * 1000).toISOString(),
        category: option.category,
        intensity: option.intensity as Intensity,
        user_prompt: prompt,
        accepted,
        ...(text !== undefined ? { text } : {}),
        language,
        company,
      });
    }
  }
  // Stable sort: rows of one user at the same second keep their generation order.
  rows.sort((a, b) => cmp(a.ts, b.ts) || cmp(a.user_id, b.user_id));
  return { rows, truth, types };
}

/** The type's option weights over `keys`, normalised and mixed with `spread` uniform mass. */
function typeDistribution(t: LatentUserType, keys: readonly string[], spread: number): number[] {
  const known = new Set(keys);
  for (const k of Object.keys(t.options))
    if (!known.has(k))
      throw new RangeError(`generate: type "${t.name}" names option "${k}", not in the vocabulary`);
  const base = normalise(keys.map((k) => t.options[k] ?? 0));
  return base.map((p) => (1 - spread) * p + spread / keys.length);
}

/** [field, option distribution there, share of rows] for a type with `domains`; [] otherwise. */
function domainDistributions(
  t: LatentUserType,
  keys: readonly string[],
  spread: number,
): [string, number[], number][] {
  return Object.entries(t.domains ?? {})
    .filter(([, w]) => w > 0)
    .sort(([a], [b]) => cmp(a, b))
    .map(([field, w]) => {
      const options = t.byDomain?.[field] ?? t.options;
      return [field, typeDistribution({ ...t, options }, keys, spread), w];
    });
}

/** Real users type the same request with different case, spacing and punctuation. */
function vary(prompt: string, rnd: () => number): string {
  const r = rnd();
  if (r < 0.06) return prompt[0]!.toUpperCase() + prompt.slice(1);
  if (r < 0.1) return `${prompt}.`;
  if (r < 0.13) return ` ${prompt.replace(' ', '  ')}`;
  return prompt;
}

/** Request popularity falls off with rank (1, 1/2, 1/3, …), so each type has a signature request. */
function zipf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 / (i + 1));
}

function indexByCategory(samples: readonly ContextSample[]): Map<string, ContextSample[]> {
  const m = new Map<string, ContextSample[]>();
  for (const s of samples) {
    const list = m.get(s.category);
    if (list) list.push(s);
    else m.set(s.category, [s]);
  }
  return m;
}

function sampleIndex(weights: readonly number[], rnd: () => number): number {
  let total = 0;
  for (const w of weights) total += w;
  let target = rnd() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  return weights.length - 1;
}

function normalise(xs: readonly number[]): number[] {
  const s = xs.reduce((a, b) => a + b, 0);
  return s > 0 ? xs.map((x) => x / s) : xs.map(() => 1 / xs.length);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
