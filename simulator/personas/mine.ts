import { mulberry32 } from '../../common/random.ts';
import {
  type CorporateRow,
  DEFAULT_VOCABULARY,
  INTENSITIES,
  type Intensity,
  type OptionVocabulary,
} from '../../schemas/index.ts';
import { adjustedRandIndex, kmeans } from '../../streams/clustering/kmeans.ts';
import type { ContextSample } from '../pools/contexts.ts';
import { promptPool } from '../pools/prompts.ts';
import type { Persona } from './schema.ts';

export interface MineOptions {
  /** A fixed number of personas; otherwise chosen in `kRange` by silhouette. */
  readonly k?: number;
  /** Candidate k (inclusive, default [5, 10]: the seeds ask for 5–10 personas). */
  readonly kRange?: readonly [number, number];
  readonly seed?: number;
  /** K-means runs per k, best inertia kept (default 5). */
  readonly restarts?: number;
  /**
   * Users with fewer rows are not used to fit the clusters (their option shares are mostly noise)
   * but are still assigned to the nearest persona afterwards (default 5).
   */
  readonly minRowsPerUser?: number;
  readonly vocabulary?: OptionVocabulary;
  /** Feature weights relative to the option distribution (defaults: acceptance 0.5, language 0.5). */
  readonly weights?: { readonly accept?: number; readonly language?: number };
  /**
   * The context pool the rows' `text` may come from: a row whose text is in it has that
   * sentence's category as its doc field, and the personas then get `domains` and
   * `preferred_by_domain` where the rows support them. Without it the personas are context-free.
   */
  readonly contexts?: readonly ContextSample[];
  /** A field needs this many of a persona's rows (default 20) and … */
  readonly minDomainRows?: number;
  /** … this share of its rows with a known field (default 0.05) to enter `domains`. */
  readonly minDomainShare?: number;
  /** user_id → latent type, when known (generated data): adds `report.truth`. */
  readonly truth?: Readonly<Record<string, string>>;
}

export interface KCandidate {
  readonly k: number;
  readonly silhouette: number;
  readonly inertia: number;
}

export interface TruthReport {
  /** Adjusted Rand index between mined personas and the latent types (1 = the same partition). */
  readonly ari: number;
  readonly users: number;
  readonly perPersona: readonly {
    persona: string;
    users: number;
    majorityType: string;
    majorityShare: number;
  }[];
  readonly perType: readonly { type: string; users: number; persona: string; share: number }[];
}

export interface MiningReport {
  readonly seed: number;
  readonly rows: number;
  readonly users: number;
  /** Users the clusters were fitted on (≥ `minRowsPerUser` rows). */
  readonly fittedUsers: number;
  /** Users with too few rows, assigned to the nearest persona after fitting. */
  readonly lightUsers: number;
  /** The k fitted (chosen or fixed). */
  readonly k: number;
  readonly kChosenBy: 'silhouette' | 'fixed';
  /** Personas produced: k less any cluster K-means left empty (e.g. identical users). */
  readonly personas: number;
  readonly silhouette: number;
  readonly candidates: readonly KCandidate[];
  readonly features: readonly string[];
  readonly truth?: TruthReport;
}

export interface MinedPersonas {
  /** Largest persona first. */
  readonly personas: Persona[];
  /** user_id → persona name, for every user in the rows. */
  readonly assignments: Record<string, string>;
  readonly report: MiningReport;
}

/** Readable role words for the default categories; other categories read as "writer". */
const ROLE_WORDS: Readonly<Record<string, string>> = {
  thesis: 'scholar',
  email: 'correspondent',
  report: 'analyst',
  article: 'journalist',
  marketing: 'marketer',
  customer_service: 'support agent',
  general: 'everyday writer',
};

const MAX_LANGUAGE_FEATURES = 6;
const SILHOUETTE_SAMPLE = 2000;

interface UserStats {
  readonly userId: string;
  rows: number;
  accepted: number;
  readonly options: Float64Array;
  readonly languages: Map<string, number>;
  readonly rowList: CorporateRow[];
}

/**
 * Mines 5–10 personas from corporate data D by clustering users on behaviour.
 *
 * Features per user: the option-choice distribution over category × intensity (dominant, weight 1),
 * the acceptance rate and the language shares (weight 0.5 each, so a shared habit such as writing
 * Korean does not outweigh what is chosen). k is the one in `kRange` with the highest mean
 * silhouette (on up to 2,000 users), each k fitted with several seeded K-means++ restarts; ties go to
 * the smaller k. Prompts do not enter the distance (they are free text and mostly mirror the option)
 * but describe each persona. Pure and deterministic for a seed.
 *
 * @example
 * const { personas, report } = minePersonas(rows, { seed: 42, truth });
 */
export function minePersonas(rows: readonly CorporateRow[], options: MineOptions = {}): MinedPersonas {
  const seed = options.seed ?? 42;
  const minRows = options.minRowsPerUser ?? 5;
  const wAccept = options.weights?.accept ?? 0.5;
  const wLang = options.weights?.language ?? 0.5;
  const { optionKeys, index: optionIndex } = optionSpace(rows, options.vocabulary ?? DEFAULT_VOCABULARY);
  const stats = userStats(rows, optionKeys.length, optionIndex);
  if (stats.length === 0) throw new RangeError('minePersonas: no rows to mine');
  const languages = topLanguages(stats);
  const features = [...optionKeys, 'accept_rate', ...languages.map((l) => `lang:${l}`)];
  const dim = features.length;
  const vector = (s: UserStats): Float32Array => {
    const v = new Float32Array(dim);
    for (let j = 0; j < optionKeys.length; j++) v[j] = s.options[j]! / s.rows;
    v[optionKeys.length] = wAccept * (s.accepted / s.rows);
    const langRows = [...s.languages.values()].reduce((a, b) => a + b, 0);
    languages.forEach((l, j) => {
      v[optionKeys.length + 1 + j] = langRows > 0 ? (wLang * (s.languages.get(l) ?? 0)) / langRows : 0;
    });
    return v;
  };

  const fitted = stats.filter((s) => s.rows >= minRows);
  const fitSet = fitted.length >= 2 ? fitted : stats;
  const n = fitSet.length;
  const data = new Float32Array(n * dim);
  fitSet.forEach((s, i) => {
    data.set(vector(s), i * dim);
  });

  const restarts = options.restarts ?? 5;
  const [lo, hi] = options.kRange ?? [5, 10];
  if (options.k !== undefined && !(Number.isInteger(options.k) && options.k >= 1))
    throw new RangeError('minePersonas: k must be an integer ≥ 1');
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi))
    throw new RangeError('minePersonas: kRange must be integers with 1 ≤ min ≤ max');
  const ks = options.k !== undefined ? [Math.min(options.k, n)] : range(Math.min(lo, n), Math.min(hi, n));
  const sample = silhouetteSample(n, seed);
  const candidates: KCandidate[] = [];
  let best: { k: number; silhouette: number; assignments: Int32Array; centroids: Float32Array } | undefined;
  for (const k of ks) {
    const fit = bestOf(data, n, dim, k, seed, restarts);
    const sil = k >= 2 ? silhouette(data, dim, fit.assignments, sample) : 0;
    candidates.push({ k, silhouette: round(sil, 4), inertia: round(fit.inertia, 4) });
    if (!best || sil > best.silhouette)
      best = { k, silhouette: sil, assignments: fit.assignments, centroids: fit.centroids };
  }
  const chosen = best!;

  // Clusters → personas, largest first; empty clusters (K-means can leave some) are dropped.
  const members = new Map<number, UserStats[]>();
  fitSet.forEach((s, i) => {
    const c = chosen.assignments[i]!;
    const list = members.get(c);
    if (list) list.push(s);
    else members.set(c, [s]);
  });
  const drafts = [...members.entries()].map(([cluster, users]) => draftPersona(cluster, users, optionKeys));
  drafts.sort(
    (a, b) => b.users.length - a.users.length || cmp(a.mainKey, b.mainKey) || a.cluster - b.cluster,
  );
  const names = nameDrafts(drafts);
  const clusterName = new Map(drafts.map((d, i) => [d.cluster, names[i]!]));
  const fieldOf = textFields(options.contexts);
  const personas = drafts.map((d, i) => {
    const p = toPersona(d, names[i]!);
    return fieldOf
      ? { ...p, ...domainFields(d, p, fieldOf, options.minDomainRows ?? 20, options.minDomainShare ?? 0.05) }
      : p;
  });

  const assignments: Record<string, string> = {};
  fitSet.forEach((s, i) => {
    assignments[s.userId] = clusterName.get(chosen.assignments[i]!)!;
  });
  let lightUsers = 0;
  for (const s of stats) {
    if (assignments[s.userId] !== undefined) continue;
    lightUsers += 1;
    assignments[s.userId] = clusterName.get(nearestCluster(vector(s), chosen.centroids, dim, clusterName))!;
  }

  const report: MiningReport = {
    seed,
    rows: rows.length,
    users: stats.length,
    fittedUsers: n,
    lightUsers,
    k: chosen.k,
    kChosenBy: options.k !== undefined ? 'fixed' : 'silhouette',
    personas: personas.length,
    silhouette: round(chosen.silhouette, 4),
    candidates,
    features,
    ...(options.truth ? { truth: scoreAgainstTruth(assignments, options.truth) } : {}),
  };
  return { personas, assignments, report };
}

/**
 * How well mined personas recover known latent types: ARI over the users present in both maps, the
 * majority type of each persona, and where each type's users went.
 */
export function scoreAgainstTruth(
  assignments: Readonly<Record<string, string>>,
  truth: Readonly<Record<string, string>>,
): TruthReport {
  const users = Object.keys(assignments)
    .filter((u) => truth[u] !== undefined)
    .sort();
  const ids = new Map<string, number>();
  const id = (s: string) => {
    if (!ids.has(s)) ids.set(s, ids.size);
    return ids.get(s)!;
  };
  const mined = users.map((u) => id(`p:${assignments[u]}`));
  const planted = users.map((u) => id(`t:${truth[u]}`));
  const cross = new Map<string, Map<string, number>>();
  const crossT = new Map<string, Map<string, number>>();
  for (const u of users) {
    const p = assignments[u]!;
    const t = truth[u]!;
    bump(cross, p, t);
    bump(crossT, t, p);
  }
  const majority = (m: Map<string, number>) => {
    let bestK = '';
    let bestN = -1;
    let total = 0;
    for (const [k, v] of [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      total += v;
      if (v > bestN) [bestK, bestN] = [k, v];
    }
    return { key: bestK, n: bestN, total };
  };
  return {
    ari: users.length >= 2 ? round(adjustedRandIndex(mined, planted), 4) : 1,
    users: users.length,
    perPersona: [...cross.entries()]
      .map(([persona, m]) => {
        const { key, n, total } = majority(m);
        return { persona, users: total, majorityType: key, majorityShare: round(n / total, 3) };
      })
      .sort((a, b) => b.users - a.users || (a.persona < b.persona ? -1 : 1)),
    perType: [...crossT.entries()]
      .map(([type, m]) => {
        const { key, n, total } = majority(m);
        return { type, users: total, persona: key, share: round(n / total, 3) };
      })
      .sort((a, b) => b.users - a.users || (a.type < b.type ? -1 : 1)),
  };
}

function bump(m: Map<string, Map<string, number>>, a: string, b: string): void {
  let inner = m.get(a);
  if (!inner) {
    inner = new Map();
    m.set(a, inner);
  }
  inner.set(b, (inner.get(b) ?? 0) + 1);
}

/** The vocabulary's options, then any category the partner uses beyond it (kept, not dropped). */
function optionSpace(
  rows: readonly CorporateRow[],
  vocab: OptionVocabulary,
): { optionKeys: string[]; index: Map<string, number> } {
  const known = new Set(vocab.categories);
  const extra = [...new Set(rows.map((r) => r.category).filter((c) => !known.has(c)))].sort();
  const optionKeys = [...vocab.categories, ...extra].flatMap((c) => INTENSITIES.map((i) => `${c}:${i}`));
  return { optionKeys, index: new Map(optionKeys.map((k, i) => [k, i])) };
}

function userStats(rows: readonly CorporateRow[], dim: number, index: Map<string, number>): UserStats[] {
  const byUser = new Map<string, UserStats>();
  for (const r of rows) {
    let s = byUser.get(r.user_id);
    if (!s) {
      s = {
        userId: r.user_id,
        rows: 0,
        accepted: 0,
        options: new Float64Array(dim),
        languages: new Map(),
        rowList: [],
      };
      byUser.set(r.user_id, s);
    }
    s.rows += 1;
    if (r.accepted) s.accepted += 1;
    s.options[index.get(`${r.category}:${r.intensity}`)!]! += 1;
    if (r.language) s.languages.set(r.language, (s.languages.get(r.language) ?? 0) + 1);
    s.rowList.push(r);
  }
  // Sorted ids make the result independent of row order.
  return [...byUser.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

/** Languages by number of users writing in them (at most 6, so a long tail adds no dimensions). */
function topLanguages(stats: readonly UserStats[]): string[] {
  const count = new Map<string, number>();
  for (const s of stats) for (const l of s.languages.keys()) count.set(l, (count.get(l) ?? 0) + 1);
  return [...count.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, MAX_LANGUAGE_FEATURES)
    .map(([l]) => l);
}

function bestOf(data: Float32Array, n: number, dim: number, k: number, seed: number, restarts: number) {
  let best: ReturnType<typeof kmeans> | undefined;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    // Small n: every mini-batch step is a full pass, then Lloyd passes settle the partition.
    const fit = kmeans({
      data,
      n,
      dim,
      k,
      seed: (seed * 1_000_003 + r * 7_919 + k) >>> 0,
      batchSize: Math.min(n, 1024),
      iterations: 8,
      refinePasses: 12,
    });
    if (!best || fit.inertia < best.inertia) best = fit;
  }
  return best!;
}

/** A seeded subset of row indices for the O(m²) silhouette (all rows when n is small). */
function silhouetteSample(n: number, seed: number): Int32Array {
  if (n <= SILHOUETTE_SAMPLE) return Int32Array.from({ length: n }, (_, i) => i);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const rnd = mulberry32(seed ^ 0x5bd1e995);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, SILHOUETTE_SAMPLE).sort();
}

/** Mean silhouette (Rousseeuw 1987) over the sampled rows; a singleton cluster scores 0. */
function silhouette(data: Float32Array, dim: number, labels: Int32Array, sample: Int32Array): number {
  const m = sample.length;
  const clusters = new Map<number, number>();
  for (const i of sample) clusters.set(labels[i]!, (clusters.get(labels[i]!) ?? 0) + 1);
  if (clusters.size < 2) return 0;
  let total = 0;
  const sums = new Map<number, number>();
  for (let a = 0; a < m; a++) {
    const i = sample[a]!;
    sums.clear();
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const j = sample[b]!;
      let d = 0;
      for (let x = 0; x < dim; x++) {
        const diff = data[i * dim + x]! - data[j * dim + x]!;
        d += diff * diff;
      }
      const l = labels[j]!;
      sums.set(l, (sums.get(l) ?? 0) + Math.sqrt(d));
    }
    const own = labels[i]!;
    const ownSize = clusters.get(own)! - 1;
    if (ownSize === 0) continue;
    const ai = sums.get(own)! / ownSize;
    let bi = Number.POSITIVE_INFINITY;
    for (const [l, size] of clusters) if (l !== own) bi = Math.min(bi, (sums.get(l) ?? 0) / size);
    total += (bi - ai) / Math.max(ai, bi);
  }
  return total / m;
}

function nearestCluster(
  v: Float32Array,
  centroids: Float32Array,
  dim: number,
  live: ReadonlyMap<number, string>,
): number {
  let best = -1;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of live.keys()) {
    let d = 0;
    for (let x = 0; x < dim; x++) {
      const diff = v[x]! - centroids[c * dim + x]!;
      d += diff * diff;
    }
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

interface Draft {
  readonly cluster: number;
  readonly users: readonly UserStats[];
  /** Option key → mean of members' shares (each user counts once, however many rows). */
  readonly distribution: readonly [string, number][];
  readonly mainKey: string;
  readonly acceptRate: number;
  readonly languages: readonly [string, number][];
  readonly prompts: readonly string[];
}

function draftPersona(cluster: number, users: readonly UserStats[], optionKeys: readonly string[]): Draft {
  const mean = new Float64Array(optionKeys.length);
  let accept = 0;
  const langs = new Map<string, number>();
  for (const u of users) {
    for (let j = 0; j < optionKeys.length; j++) mean[j]! += u.options[j]! / u.rows / users.length;
    accept += u.accepted / u.rows / users.length;
    const langRows = [...u.languages.values()].reduce((a, b) => a + b, 0);
    for (const [l, c] of u.languages) langs.set(l, (langs.get(l) ?? 0) + c / langRows / users.length);
  }
  const distribution = optionKeys
    .map((k, j) => [k, mean[j]!] as [string, number])
    .filter(([, p]) => p > 0)
    .sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1));
  const prompts = promptPool(
    users.flatMap((u) => u.rowList),
    { top: 5 },
  ).map((p) => p.prompt);
  return {
    cluster,
    users,
    distribution,
    mainKey: distribution[0]?.[0] ?? optionKeys[0]!,
    acceptRate: accept,
    languages: [...langs.entries()].sort(([la, a], [lb, b]) => b - a || (la < lb ? -1 : 1)),
    prompts,
  };
}

/**
 * "thesis-strong scholar": the preferred option plus a role word for its category. Personas that
 * share a preferred option are told apart by main language, then by their second option, then a number.
 */
function nameDrafts(drafts: readonly Draft[]): string[] {
  const base = drafts.map((d) => {
    const [category, intensity] = splitKey(d.mainKey);
    return `${category}-${intensity} ${ROLE_WORDS[category] ?? 'writer'}`;
  });
  const refine = (names: string[], qualify: (d: Draft) => string): string[] => {
    const counts = new Map<string, number>();
    for (const nm of names) counts.set(nm, (counts.get(nm) ?? 0) + 1);
    return names.map((nm, i) => ((counts.get(nm) ?? 0) > 1 ? `${nm} ${qualify(drafts[i]!)}` : nm));
  };
  let names = refine(base, (d) => `(${d.languages[0]?.[0] ?? 'mixed'})`);
  names = refine(names, (d) => `+ ${d.distribution[1]?.[0] ?? 'none'}`);
  const seen = new Map<string, number>();
  return names.map((nm) => {
    const k = (seen.get(nm) ?? 0) + 1;
    seen.set(nm, k);
    return k > 1 ? `${nm} #${k}` : nm;
  });
}

function toPersona(d: Draft, name: string): Persona {
  const [category, intensity] = splitKey(d.mainKey);
  const option_distribution = Object.fromEntries(
    d.distribution.map(([k, p]) => [k, round(p, 3)] as [string, number]).filter(([, p]) => p > 0),
  );
  const languages = Object.fromEntries(d.languages.map(([l, p]) => [l, round(p, 3)]));
  const style = d.prompts[0] ?? '';
  const second = d.distribution[1];
  const langText = d.languages.map(([l, p]) => `${l} ${pct(p)}`).join(' / ');
  const description =
    `${d.users.length} users who mostly choose ${category} · ${intensity} (${pct(d.distribution[0]?.[1] ?? 0)}` +
    (second ? `, then ${second[0].replace(':', ' · ')} ${pct(second[1])})` : ')') +
    `, accept ${pct(d.acceptRate)} of rewrites, write ${langText || 'in an unknown language'}` +
    (style ? ` and typically ask "${style}".` : '.');
  return {
    name,
    preferred_category: category,
    preferred_intensity: intensity,
    style_prompt: style,
    accept_rate: round(d.acceptRate, 3),
    option_distribution,
    languages,
    style_prompts: [...d.prompts],
    users: d.users.length,
    description,
  };
}

/** sentence → its category in the pool; null without a pool. */
function textFields(contexts: readonly ContextSample[] | undefined): Map<string, string> | null {
  if (!contexts) return null;
  const m = new Map<string, string>();
  for (const c of contexts) if (!m.has(c.text)) m.set(c.text, c.category);
  return m;
}

/**
 * What a persona writes and picks per doc field, learnt from its members' rows whose text has a
 * known field. A field enters `domains` with ≥ `minRows` rows and ≥ `minShare` of the known rows;
 * `preferred_by_domain` lists the most chosen option of each such field, and only when some field's
 * option differs from the persona's overall one (else the choice does not depend on the field and
 * the fallback says it all). Nothing when no field has the support.
 */
export function domainFields(
  d: Pick<Draft, 'users'>,
  p: Pick<Persona, 'preferred_category' | 'preferred_intensity'>,
  fieldOf: ReadonlyMap<string, string>,
  minRows: number,
  minShare: number,
): Pick<Persona, 'domains' | 'preferred_by_domain'> {
  const perField = new Map<string, Map<string, number>>();
  let known = 0;
  for (const u of d.users) {
    for (const r of u.rowList) {
      const field = r.text !== undefined ? fieldOf.get(r.text) : undefined;
      if (field === undefined) continue;
      known += 1;
      let m = perField.get(field);
      if (!m) {
        m = new Map();
        perField.set(field, m);
      }
      const key = `${r.category}:${r.intensity}`;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  const supported = [...perField.entries()]
    .map(([field, m]) => [field, m, [...m.values()].reduce((a, b) => a + b, 0)] as const)
    .filter(([, , n]) => n >= minRows && n / known >= minShare)
    .sort(([a, , x], [b, , y]) => y - x || cmp(a, b));
  if (supported.length === 0) return {};
  const total = supported.reduce((s, [, , n]) => s + n, 0);
  const domains = Object.fromEntries(supported.map(([field, , n]) => [field, round(n / total, 3)]));
  const fallback = `${p.preferred_category}:${p.preferred_intensity}`;
  const byField = Object.fromEntries(
    supported.map(([field, m]) => {
      const top = [...m.entries()].sort(([ka, a], [kb, b]) => b - a || cmp(ka, kb))[0]![0];
      return [field, top];
    }),
  );
  const dependent = Object.values(byField).some((o) => o !== fallback);
  return dependent ? { domains, preferred_by_domain: byField } : { domains };
}

function splitKey(key: string): [string, Intensity] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), key.slice(i + 1) as Intensity];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.max(1, lo); k <= hi; k++) out.push(k);
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
