import type { ClusterProfile, OptionVocabulary, RewriteOption, UserProfile } from '../../schemas/index.ts';
import { allOptions, optionKey } from '../../schemas/index.ts';
import type { ScoringConfig } from './config.ts';

/** The options of a vocabulary in a fixed order (categories outer, intensities inner), indexed. */
export interface IndexedOptions {
  readonly options: readonly RewriteOption[];
  readonly keys: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** Option indices per category. */
  readonly byCategory: ReadonlyMap<string, readonly number[]>;
}

const indexed = new WeakMap<OptionVocabulary, IndexedOptions>();

/**
 * The vocabulary's options with a key → index map, cached per vocabulary object because the
 * scorer runs per request and the vocabulary hardly ever changes.
 *
 * @example
 * const { keys } = indexOptions(DEFAULT_VOCABULARY); // ['thesis:weak', 'thesis:moderate', …]
 */
export function indexOptions(vocabulary: OptionVocabulary): IndexedOptions {
  const hit = indexed.get(vocabulary);
  if (hit) return hit;
  const options = allOptions(vocabulary);
  const keys = options.map(optionKey);
  const index = new Map(keys.map((k, i) => [k, i]));
  const byCategory = new Map<string, number[]>();
  options.forEach((o, i) => {
    const list = byCategory.get(o.category) ?? [];
    list.push(i);
    byCategory.set(o.category, list);
  });
  const out: IndexedOptions = { options, keys, index, byCategory };
  indexed.set(vocabulary, out);
  return out;
}

/**
 * Dirichlet-smoothed distribution of non-negative masses: (c_o + λ/|O|) / (Σc + λ); uniform if empty.
 *
 * @example
 * smoothed(Float64Array.of(3, 1, 0, 0), 4, 1); // [0.65, 0.25, 0.05, 0.05]
 */
export function smoothed(mass: Float64Array, total: number, lambda: number): Float64Array {
  const n = mass.length;
  const out = new Float64Array(n);
  if (!(total > 0)) return out.fill(1 / n);
  const prior = lambda / n;
  const denom = total + lambda;
  for (let i = 0; i < n; i++) out[i] = (mass[i]! + prior) / denom;
  return out;
}

/** A neighbour as the scorer reads it: a search hit, or the same fields from a log. */
export interface ScoringNeighbour {
  readonly score: number;
  readonly payload: { readonly option_key: string | null; readonly language: string };
}

export interface VecEvidence {
  readonly p: Float64Array;
  /** Neighbours that counted (right language, an option of the vocabulary, similarity > 0). */
  readonly used: number;
  /** Neighbours that counted, per option. */
  readonly perOption: Int32Array;
}

/**
 * P_vec: neighbours' options weighted by their cosine similarity (negative similarity counts as
 * none), smoothed. The mass is the sum of similarities, so a few weakly similar neighbours move
 * P_vec less than many close ones.
 *
 * @example
 * vecComponent(opts, hits, 'ko', 1).p; // mass on the options the nearest contexts ended with
 */
export function vecComponent(
  opts: IndexedOptions,
  neighbours: readonly ScoringNeighbour[],
  language: string,
  lambda: number,
): VecEvidence {
  const n = opts.keys.length;
  const mass = new Float64Array(n);
  const perOption = new Int32Array(n);
  let total = 0;
  let used = 0;
  for (const nb of neighbours) {
    if (nb.payload.language !== language || nb.payload.option_key === null) continue;
    const i = opts.index.get(nb.payload.option_key);
    if (i === undefined || !(nb.score > 0) || !Number.isFinite(nb.score)) continue;
    mass[i]! += nb.score;
    total += nb.score;
    perOption[i]! += 1;
    used++;
  }
  return { p: smoothed(mass, total, lambda), used, perOption };
}

/** What the caller knows about the document: its declared field and options chosen earlier in it. */
export interface DocEvidenceInput {
  readonly field: string | null;
  /** Option key → times chosen earlier in the same document. */
  readonly history: Readonly<Record<string, number>>;
}

export interface DocEvidence {
  readonly p: Float64Array;
  /** The declared field when it is a category of the vocabulary. */
  readonly field: string | null;
  readonly fieldPart: Float64Array;
  readonly historyPart: Float64Array;
  /** Share of the history part: H / (H + k). */
  readonly historyShare: number;
  readonly historyTotal: number;
  readonly historyCounts: Float64Array;
}

/**
 * P_doc = h·P_history + (1 − h)·P_field with h = H / (H + k): the field's prior gives way to what
 * was actually chosen in this document as choices accumulate. P_field puts `docFieldShare` on the
 * field's category, evenly over its intensities (a field says nothing about intensity).
 *
 * @example
 * docComponent(opts, { field: 'thesis', history: { 'thesis:strong': 2 } }, config).p;
 */
export function docComponent(
  opts: IndexedOptions,
  doc: DocEvidenceInput | null,
  c: Pick<ScoringConfig, 'docFieldShare' | 'docHistoryK' | 'smoothing'>,
): DocEvidence {
  const n = opts.keys.length;
  const uniform = 1 / n;
  const fieldPart = new Float64Array(n).fill(uniform);
  const inCategory = doc?.field ? opts.byCategory.get(doc.field) : undefined;
  if (inCategory && inCategory.length > 0) {
    const rest = (1 - c.docFieldShare) * uniform;
    fieldPart.fill(rest);
    for (const i of inCategory) fieldPart[i] = rest + c.docFieldShare / inCategory.length;
  }
  const counts = new Float64Array(n);
  let total = 0;
  for (const [key, v] of Object.entries(doc?.history ?? {})) {
    const i = opts.index.get(key);
    if (i === undefined || !(v > 0) || !Number.isFinite(v)) continue;
    counts[i]! += v;
    total += v;
  }
  const historyPart = smoothed(counts, total, c.smoothing);
  const h = total > 0 ? total / (total + c.docHistoryK) : 0;
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = h * historyPart[i]! + (1 - h) * fieldPart[i]!;
  return {
    p,
    field: inCategory ? doc!.field : null,
    fieldPart,
    historyPart,
    historyShare: h,
    historyTotal: total,
    historyCounts: counts,
  };
}

export interface UserEvidence {
  readonly p: Float64Array;
  readonly countPart: Float64Array;
  /** Null when there is no context embedding or no per-option embedding to compare with. */
  readonly similarityPart: Float64Array | null;
  readonly similarityShare: number;
  /** n: the user's sessions with an option of the vocabulary. */
  readonly sessions: number;
  readonly selected: Float64Array;
  /** Cosine of the context to each option's mean context (NaN where the user has none). */
  readonly similarity: Float64Array;
}

/**
 * P_user = (1 − γ)·P_counts + γ·P_similarity.
 *
 * - P_counts: the user's option counts, each session weighted 1 if a candidate was kept and
 *   `rejectedWeight` if not (acceptance as a weight on `selected`), smoothed.
 * - P_similarity: softmax(cos(context, mean context of option o) / T) over the options the user
 *   has contexts for — "you use X for sentences like this" — smoothed with the number of embedded
 *   sessions as its mass, so one past session cannot dominate.
 *
 * γ = `userSimilarityWeight` when there is anything to compare, else 0. Uniform with no history.
 *
 * @example
 * userComponent(opts, profile, contextEmbedding, config).p;
 */
export function userComponent(
  opts: IndexedOptions,
  profile: UserProfile | null,
  embedding: ArrayLike<number> | null,
  c: Pick<ScoringConfig, 'smoothing' | 'temperature' | 'userSimilarityWeight' | 'rejectedWeight'>,
): UserEvidence {
  const n = opts.keys.length;
  const weighted = new Float64Array(n);
  const selected = new Float64Array(n);
  const similarity = new Float64Array(n).fill(Number.NaN);
  let total = 0;
  let sessions = 0;
  if (profile) {
    for (let i = 0; i < n; i++) {
      const s = profile.options[opts.keys[i]!];
      if (!s || !(s.selected > 0)) continue;
      const kept = Math.min(Math.max(s.accepted, 0), s.selected);
      const w = kept + c.rejectedWeight * (s.selected - kept);
      weighted[i] = w;
      selected[i] = s.selected;
      total += w;
      sessions += s.selected;
    }
  }
  const countPart = smoothed(weighted, total, c.smoothing);

  let similarityPart: Float64Array | null = null;
  const eNorm = embedding ? norm(embedding) : 0;
  if (profile && embedding && eNorm > 0) {
    let best = Number.NEGATIVE_INFINITY;
    let mass = 0;
    for (let i = 0; i < n; i++) {
      const m = profile.option_embeddings[opts.keys[i]!];
      if (!m || m.n <= 0 || m.vector.length !== embedding.length) continue;
      const cos = cosineWithNorm(embedding, eNorm, m.vector);
      if (!Number.isFinite(cos)) continue;
      similarity[i] = cos;
      if (cos > best) best = cos;
      mass += m.n;
    }
    if (mass > 0) {
      // Shifting by the best similarity keeps exp() in range; it cancels in the normalisation.
      const soft = new Float64Array(n);
      let z = 0;
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(similarity[i]!)) continue;
        soft[i] = Math.exp((similarity[i]! - best) / c.temperature);
        z += soft[i]!;
      }
      for (let i = 0; i < n; i++) soft[i] = (soft[i]! / z) * mass;
      similarityPart = smoothed(soft, mass, c.smoothing);
    }
  }
  const g = similarityPart ? c.userSimilarityWeight : 0;
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = (1 - g) * countPart[i]! + (similarityPart ? g * similarityPart[i]! : 0);
  return { p, countPart, similarityPart, similarityShare: g, sessions, selected, similarity };
}

export interface ClusterEvidence {
  readonly p: Float64Array;
  readonly clusterId: number | null;
  /** The cluster's own shares over the vocabulary (renormalised), before smoothing. */
  readonly shares: Float64Array;
  /** Index of the cluster's most chosen option of the vocabulary, −1 if none. */
  readonly top: number;
}

/**
 * P_cluster: the cluster's option distribution restricted to the vocabulary, smoothed with the
 * cluster's size (users) as its mass — a cluster of one user is half prior. Uniform without one.
 *
 * @example
 * clusterComponent(opts, clusterProfile, 1).p;
 */
export function clusterComponent(
  opts: IndexedOptions,
  cluster: ClusterProfile | null,
  lambda: number,
): ClusterEvidence {
  const n = opts.keys.length;
  const shares = new Float64Array(n);
  let total = 0;
  if (cluster) {
    for (let i = 0; i < n; i++) {
      const v = cluster.option_distribution[opts.keys[i]!];
      if (v === undefined || !(v > 0) || !Number.isFinite(v)) continue;
      shares[i] = v;
      total += v;
    }
  }
  let top = -1;
  if (total > 0) {
    for (let i = 0; i < n; i++) {
      shares[i]! /= total;
      if (top < 0 || shares[i]! > shares[top]!) top = i;
    }
  }
  const size = cluster && total > 0 ? Math.max(cluster.size, 1) : 0;
  const mass = new Float64Array(n);
  for (let i = 0; i < n; i++) mass[i] = shares[i]! * size;
  return { p: smoothed(mass, size, lambda), clusterId: cluster?.cluster_id ?? null, shares, top };
}

/**
 * P_cluster conditioned on the context: (1 − γ)·P_cluster + γ·normalise(P_cluster ⊙ P_ctx), with
 * P_ctx = (w_vec·P_vec + α·P_doc) / (w_vec + α) — a product of experts: the cluster says what
 * people like this user pick, the context what sentences like this end with. A cold user's cluster
 * is a guess from one sentence, and a context-free P_cluster pushes its top option whatever the
 * sentence is (a scholar cluster's `thesis:strong` on an e-mail); the product keeps the cluster's
 * taste within the context's options. Unchanged when γ = 0, without a cluster, or when the blend
 * gives the context no weight (then P_ctx is unknown: α = 0 and β = 1).
 *
 * @example
 * conditionOnContext(cluster.p, vec.p, doc.p, 0.25, 0.2, 1);
 */
export function conditionOnContext(
  cluster: Float64Array,
  vec: Float64Array,
  doc: Float64Array,
  vecWeight: number,
  alpha: number,
  gamma: number,
): Float64Array {
  const den = vecWeight + alpha;
  if (!(gamma > 0) || !(den > 0)) return cluster;
  const n = cluster.length;
  const prod = new Float64Array(n);
  let z = 0;
  for (let i = 0; i < n; i++) {
    prod[i] = cluster[i]! * ((vecWeight * vec[i]! + alpha * doc[i]!) / den);
    z += prod[i]!;
  }
  if (!(z > 0)) return cluster;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (1 - gamma) * cluster[i]! + (gamma * prod[i]!) / z;
  return out;
}

/**
 * The user's share of P_user' = w·P_user + (1 − w)·P_cluster: w = n / (n + k), 0 with no history
 * (even when k = 0).
 *
 * @example
 * userShare(15, 5); // 0.75
 */
export function userShare(n: number, k: number): number {
  return n > 0 ? n / (n + k) : 0;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Number.isFinite(s) ? Math.sqrt(s) : 0;
}

/** cos(a, b) given |a|, in one pass over both (this loop is most of the scorer's time). */
function cosineWithNorm(a: ArrayLike<number>, aNorm: number, b: ArrayLike<number>): number {
  let d0 = 0;
  let d1 = 0;
  let b0 = 0;
  let b1 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const y0 = b[i]!;
    const y1 = b[i + 1]!;
    d0 += a[i]! * y0;
    d1 += a[i + 1]! * y1;
    b0 += y0 * y0;
    b1 += y1 * y1;
  }
  if (i < n) {
    d0 += a[i]! * b[i]!;
    b0 += b[i]! * b[i]!;
  }
  const bb = b0 + b1;
  return bb > 0 ? (d0 + d1) / (aNorm * Math.sqrt(bb)) : Number.NaN;
}
