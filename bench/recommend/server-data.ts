import { indexOptions } from '../../api/scoring/index.ts';
import { createMemoryVectorIndex } from '../../api/vector/memory-vector-index.ts';
import type { VectorPoint } from '../../api/vector/vector-index.ts';
import { mulberry32 } from '../../common/random.ts';
import {
  type ClusterProfile,
  DEFAULT_VOCABULARY,
  type UserProfile,
  userProfileSchema,
} from '../../schemas/index.ts';
import { loadContextPool } from '../../simulator/pools/contexts.ts';
import { hashEmbed } from '../../streams/embeddings/hashing-embedder.ts';
import { emptyProfile } from '../../streams/reducers/evolve-profile.ts';
import { createMemoryDocStore } from '../../streams/stores/doc-store.ts';
import { createMemoryClusterStore, createMemoryProfileStore } from '../../streams/stores/profile-store.ts';
import { percentile, round } from '../lib/common.ts';
import type { ServeParams } from './protocol.ts';

function gauss(rnd: () => number): number {
  let u = 0;
  while (u === 0) u = rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

/**
 * A user as the fold would have left them: a long-tailed number of sessions (median ~10, some
 * hundreds), most of them on 1–4 favourite options, a few elsewhere; a mean context per option.
 */
function syntheticProfile(
  i: number,
  rnd: () => number,
  keys: readonly string[],
  vec: () => number[],
  favouritesOf: (i: number) => string[],
): UserProfile {
  const p = emptyProfile(`u${i}`);
  const sessions = Math.max(1, Math.min(500, Math.round(Math.exp(2.3 + gauss(rnd)))));
  const favourites = favouritesOf(i);
  const counts = new Map<string, number>();
  for (let s = 0; s < sessions; s++) {
    // 85 % on a favourite (Zipf-like among them), 15 % anywhere.
    let key: string;
    if (rnd() < 0.85) {
      let j = 0;
      while (j < favourites.length - 1 && rnd() < 0.4) j++;
      key = favourites[j]!;
    } else key = keys[Math.floor(rnd() * keys.length)]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let accepted = 0;
  for (const [key, n] of counts) {
    const acc = Math.round(n * (0.6 + 0.3 * rnd()));
    accepted += acc;
    p.options[key] = { selected: n, accepted: acc };
    p.option_embeddings[key] = { n, vector: vec() };
  }
  const ko = Math.round(sessions * rnd());
  p.languages = { ...(ko > 0 ? { ko } : {}), ...(sessions - ko > 0 ? { en: sessions - ko } : {}) };
  p.sessions = sessions;
  p.accepted = accepted;
  p.rejected = sessions - accepted;
  p.embedding = { n: sessions, vector: vec() };
  p.version = sessions;
  const ts = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  p.updated_ts = ts;
  p.applied_offsets = { [String(i % 6)]: i * 3 + sessions };
  const recent = Math.min(sessions, 8);
  const used = [...counts.keys()];
  for (let r = 0; r < recent; r++) {
    p.recent[`rs-u${i}-${r}`] = {
      revision: 1,
      ts,
      option: used[r % used.length]!,
      outcome: 'accepted',
      style_request: false,
      language: 'ko',
      embedded: true,
    };
  }
  return p;
}

/**
 * The past contexts the index holds, in batches of 1,000: what the index holds in production, the
 * offline embedder's vectors of real-looking texts (two sentences of the context pool, same
 * language, mostly the same category), the language that of the text and the option following the
 * category (as real contexts do). The request texts come from the same pool, so each query has real
 * neighbours and the language filter meets the structure it meets in production. Deterministic for
 * `rnd`: the server child draws them first from the seed, and the Qdrant half of the benchmark
 * draws the same ones to upsert them into a collection.
 */
export function* contextBatches(
  params: Pick<ServeParams, 'contexts' | 'dim' | 'koShare' | 'users'>,
  rnd: () => number,
): Generator<VectorPoint[]> {
  const { contexts, dim, koShare, users } = params;
  const pool = loadContextPool();
  const byLang = new Map<string, typeof pool>();
  for (const c of pool) byLang.set(c.language, [...(byLang.get(c.language) ?? []), c]);
  const langs = [...byLang.keys()].sort();
  let batch: VectorPoint[] = [];
  const intensities = DEFAULT_VOCABULARY.intensities;
  for (let i = 0; i < contexts; i++) {
    const language =
      langs.length > 1 && rnd() < koShare ? 'ko' : (langs.find((l) => l !== 'ko') ?? langs[0]!);
    const same = byLang.get(language) ?? pool;
    const first = same[Math.floor(rnd() * same.length)]!;
    let second = same[Math.floor(rnd() * same.length)]!;
    for (let t = 0; t < 4 && second.category !== first.category && rnd() < 0.7; t++) {
      second = same[Math.floor(rnd() * same.length)]!;
    }
    const category = first.category;
    const intensity = intensities[Math.floor(rnd() * intensities.length)]!;
    batch.push({
      id: `rs-${i}`,
      vector: hashEmbed(`${first.text} ${second.text}`, dim),
      payload: {
        option_key: `${category}:${intensity}`,
        category,
        intensity,
        style_request: null,
        language,
        user_id: `u${i % users}`,
        consistency: 'high',
        example_id: `h:rs-${i}:1`,
        ts: '2026-01-01T00:00:00.000Z',
      },
    });
    if (batch.length === 1000 || i === contexts - 1) {
      yield batch;
      batch = [];
    }
  }
}

/**
 * What the server child serves from: the stores, the in-process index (null with `index: false`,
 * when the server reads a Qdrant collection holding the same contexts), the request bodies, and
 * build figures.
 */
export async function buildServerData(params: ServeParams, opts: { index?: boolean } = {}) {
  const t0 = performance.now();
  const { users, dim, seed } = params;
  const rnd = mulberry32(seed);
  const keys = indexOptions(DEFAULT_VOCABULARY).keys;
  const pool = loadContextPool();
  const index = opts.index === false ? null : createMemoryVectorIndex({ dim, nprobe: params.nprobe });
  // Drawn either way, so the users and bodies below are the same for both backends.
  for (const batch of contextBatches(params, rnd)) index?.upsertSync(batch);
  const indexMs = performance.now() - t0;

  // Users: per-option mean contexts near the texts they wrote (embeddings of pool texts).
  const t1 = performance.now();
  const vec = () => Array.from(hashEmbed(pool[Math.floor(rnd() * pool.length)]!.text, dim));
  const favouritesOf = () => {
    const n = 1 + Math.floor(rnd() * 4);
    const out: string[] = [];
    while (out.length < n) {
      const k = keys[Math.floor(rnd() * keys.length)]!;
      if (!out.includes(k)) out.push(k);
    }
    return out;
  };
  const profiles = createMemoryProfileStore();
  const all: UserProfile[] = [];
  for (let i = 0; i < users; i++) all.push(syntheticProfile(i, rnd, keys, vec, favouritesOf));
  for (let i = 0; i < all.length; i += Math.max(1, Math.floor(all.length / 50))) {
    userProfileSchema.parse(all[i]); // the synthetic profiles are valid G
  }
  await profiles.putMany(all);
  const optionEmbeddings = all.reduce((s, p) => s + Object.keys(p.option_embeddings).length, 0);
  const sessions = all.map((p) => p.sessions).sort((a, b) => a - b);

  // Clusters: 8, every known user assigned; centroid = context part + option part.
  const clusters = createMemoryClusterStore();
  const k = 8;
  const list: ClusterProfile[] = Array.from({ length: k }, (_, c) => {
    const dist = Object.fromEntries(keys.map((key) => [key, rnd()]));
    const total = Object.values(dist).reduce((a, b) => a + b, 0);
    for (const key of keys) dist[key]! /= total;
    const top = keys.reduce((a, b) => (dist[a]! >= dist[b]! ? a : b));
    return {
      cluster_id: c,
      version: 1,
      ts: '2026-01-01T00:00:00.000Z',
      size: Math.round(users / k),
      centroid: [...vec(), ...keys.map((key) => dist[key]!)],
      option_distribution: dist,
      top_option: top,
    };
  });
  await clusters.replace(list, new Map(all.map((p, i) => [p.user_id, i % k])));
  const profilesMs = performance.now() - t1;

  // Documents with some history, and the request bodies.
  const docs = createMemoryDocStore();
  for (let d = 0; d < 2000; d++) {
    for (let c = 0; c < 1 + (d % 4); c++) {
      await docs.recordChoice(`doc-${d}`, `s-${d}-${c}`, keys[(d * 7 + c) % keys.length]!, `user-${d % 500}`);
    }
  }
  const categories = DEFAULT_VOCABULARY.categories;
  const bodies: string[] = [];
  for (let b = 0; b < 4096; b++) {
    // 5 % brand-new users (cold start: cluster by context), the rest known users.
    const user = rnd() < 0.05 ? `new-${b}` : `u${Math.floor(rnd() * users)}`;
    const sample = pool[Math.floor(rnd() * pool.length)]!;
    const withDoc = rnd() < 0.5;
    const body: Record<string, unknown> = { user_id: user, text: sample.text };
    if (withDoc) body.doc_id = `doc-${Math.floor(rnd() * 2000)}`;
    if (withDoc && rnd() < 0.6) body.doc_field = categories[Math.floor(rnd() * categories.length)]!;
    bodies.push(JSON.stringify(body));
  }
  return {
    index,
    profiles,
    clusters,
    docs,
    bodies,
    build: {
      index_build_s: round(indexMs / 1000, 1),
      index_size: index ? index.stats().size : params.contexts,
      index_lists: index ? index.stats().lists : 0,
      profiles_build_s: round(profilesMs / 1000, 1),
      users,
      option_embeddings: optionEmbeddings,
      sessions_p50: percentile(sessions, 50),
      sessions_p90: percentile(sessions, 90),
      sessions_max: sessions[sessions.length - 1]!,
      clusters: k,
    },
  };
}
