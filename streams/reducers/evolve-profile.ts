import type { TrainingExample, UserProfile } from '../../schemas/index.ts';
import { optionKey } from '../../schemas/index.ts';

/** One H as the fold sees it: where it was read, and its context embedding (computed upstream). */
export interface ProfileInput {
  readonly example: TrainingExample;
  /** Context embedding of the example, or null when it has no context or none was computed. */
  readonly embedding: ArrayLike<number> | null;
  readonly partition: number;
  readonly offset: number;
}

export interface EvolveOptions {
  /** A session's contribution is remembered this long (event time) so a revision can replace it. */
  readonly recentRetentionMs?: number;
  /** …and at most this many sessions per user. */
  readonly recentMax?: number;
}

const DEFAULTS = { recentRetentionMs: 6 * 60 * 60_000, recentMax: 256 };

export function emptyProfile(userId: string): UserProfile {
  return {
    user_id: userId,
    version: 0,
    updated_ts: null,
    sessions: 0,
    accepted: 0,
    rejected: 0,
    not_paraphrased: 0,
    style_requests: 0,
    options: {},
    languages: {},
    embedding: null,
    option_embeddings: {},
    cluster_id: null,
    applied_offsets: {},
    recent: {},
  };
}

type Contribution = UserProfile['recent'][string];

function contributionOf(h: TrainingExample, embedded: boolean): Contribution {
  return {
    revision: h.revision,
    ts: h.ts,
    option: h.chosen_option ? optionKey(h.chosen_option) : null,
    outcome: h.outcome,
    style_request: h.style_request !== null,
    language: h.context?.language ?? null,
    embedded,
  };
}

/**
 * Folds one training example into a user profile: G' = evolveProfile(G, H). Pure: time comes from
 * the example, nothing is read from the clock or the outside.
 *
 * - Idempotent under replay: an input at or below the last applied offset of its partition returns
 *   the profile unchanged (the same object).
 * - Revisions: a later revision of a session replaces the earlier one's contribution exactly; an
 *   older or equal revision only advances the offset.
 * - Embeddings are exact running means (overall and per selected option), not EWMA: a mean can
 *   be un-applied when a revision replaces a session, and it does not depend on the order in which
 *   partitions were replayed. Taste drift is left to the counts' recency in scoring.
 *
 * @example
 * const g1 = evolveProfile(null, { example: h, embedding, partition: 0, offset: 41 });
 * evolveProfile(g1, { example: h, embedding, partition: 0, offset: 41 }) === g1; // replay: no change
 */
export function evolveProfile(
  profile: UserProfile | null,
  input: ProfileInput,
  opts: EvolveOptions = {},
): UserProfile {
  const h = input.example;
  const base = profile ?? emptyProfile(h.user_id);
  if (base.user_id !== h.user_id) {
    throw new Error(`evolveProfile: example of ${h.user_id} folded into the profile of ${base.user_id}`);
  }
  const pkey = String(input.partition);
  const applied = base.applied_offsets[pkey];
  if (applied !== undefined && input.offset <= applied) return base;

  const g: UserProfile = structuredCloneProfile(base);
  g.applied_offsets[pkey] = input.offset;
  const prev = g.recent[h.recommend_session_id];
  if (prev && prev.revision >= h.revision) return g;

  const emb = input.embedding !== null && h.context !== null ? input.embedding : null;
  if (prev) unapply(g, prev, emb);
  const contribution = contributionOf(h, emb !== null);
  apply(g, contribution, emb);
  g.recent[h.recommend_session_id] = contribution;
  pruneRecent(g, { ...DEFAULTS, ...opts });

  g.version += 1;
  if (g.updated_ts === null || h.ts > g.updated_ts) g.updated_ts = h.ts;
  return g;
}

function apply(g: UserProfile, c: Contribution, emb: ArrayLike<number> | null): void {
  g.sessions += 1;
  if (c.outcome === 'accepted' || c.outcome === 'edited') g.accepted += 1;
  else if (c.outcome === 'rejected') g.rejected += 1;
  else if (c.outcome === 'not_paraphrased') g.not_paraphrased += 1;
  if (c.style_request) g.style_requests += 1;
  if (c.language) g.languages[c.language] = (g.languages[c.language] ?? 0) + 1;
  if (c.option) {
    const s = g.options[c.option] ?? { selected: 0, accepted: 0 };
    s.selected += 1;
    if (c.outcome === 'accepted' || c.outcome === 'edited') s.accepted += 1;
    g.options[c.option] = s;
  }
  if (emb && c.embedded) {
    g.embedding = meanAdd(g.embedding, emb);
    if (c.option) {
      const m = meanAdd(g.option_embeddings[c.option] ?? null, emb);
      g.option_embeddings[c.option] = m;
    }
  }
}

function unapply(g: UserProfile, c: Contribution, emb: ArrayLike<number> | null): void {
  g.sessions -= 1;
  if (c.outcome === 'accepted' || c.outcome === 'edited') g.accepted -= 1;
  else if (c.outcome === 'rejected') g.rejected -= 1;
  else if (c.outcome === 'not_paraphrased') g.not_paraphrased -= 1;
  if (c.style_request) g.style_requests -= 1;
  if (c.language) {
    const n = (g.languages[c.language] ?? 0) - 1;
    if (n > 0) g.languages[c.language] = n;
    else delete g.languages[c.language];
  }
  if (c.option) {
    const s = g.options[c.option];
    if (s) {
      s.selected -= 1;
      if (c.outcome === 'accepted' || c.outcome === 'edited') s.accepted -= 1;
      if (s.selected <= 0) delete g.options[c.option];
    }
  }
  // Every revision of a session shares the A event's context, hence the same embedding.
  if (emb && c.embedded) {
    g.embedding = meanRemove(g.embedding, emb);
    if (c.option) {
      const m = meanRemove(g.option_embeddings[c.option] ?? null, emb);
      if (m) g.option_embeddings[c.option] = m;
      else delete g.option_embeddings[c.option];
    }
  }
}

type Mean = { n: number; vector: number[] };

function meanAdd(m: Mean | null, x: ArrayLike<number>): Mean {
  if (!m || m.n === 0) return { n: 1, vector: Array.from(x) };
  const n = m.n + 1;
  const v = m.vector.slice();
  for (let i = 0; i < v.length; i++) v[i] = v[i]! + ((x[i] ?? 0) - v[i]!) / n;
  return { n, vector: v };
}

function meanRemove(m: Mean | null, x: ArrayLike<number>): Mean | null {
  if (!m || m.n <= 1) return null;
  const n = m.n - 1;
  const v = m.vector.slice();
  for (let i = 0; i < v.length; i++) v[i] = (v[i]! * m.n - (x[i] ?? 0)) / n;
  return { n, vector: v };
}

function pruneRecent(g: UserProfile, o: Required<EvolveOptions>): void {
  const entries = Object.entries(g.recent);
  if (entries.length === 0) return;
  let newest = '';
  for (const [, c] of entries) if (c.ts > newest) newest = c.ts;
  const cutoff = Date.parse(newest) - o.recentRetentionMs;
  const keep = entries
    .filter(([, c]) => Date.parse(c.ts) >= cutoff)
    .sort((x, y) => (x[1].ts === y[1].ts ? (x[0] < y[0] ? -1 : 1) : x[1].ts < y[1].ts ? 1 : -1))
    .slice(0, o.recentMax);
  if (keep.length === entries.length) return;
  g.recent = Object.fromEntries(keep);
}

/** A copy deep enough that the fold never mutates its input (vectors are replaced, not edited). */
function structuredCloneProfile(p: UserProfile): UserProfile {
  const options: UserProfile['options'] = {};
  for (const [k, v] of Object.entries(p.options)) options[k] = { ...v };
  return {
    ...p,
    options,
    languages: { ...p.languages },
    option_embeddings: { ...p.option_embeddings },
    applied_offsets: { ...p.applied_offsets },
    recent: { ...p.recent },
  };
}
