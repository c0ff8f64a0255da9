import { checkVector, type InvertedList, type IvfState, invalidArgument } from './ivf-storage.ts';
import { refreshCentroids } from './ivf-training.ts';
import type { SearchFilter, SearchHit } from './vector-index.ts';
import { dot, normaliseInto, TopK } from './vector-math.ts';

/** Per-call knobs for evaluation (recall against nprobe), not part of the port. */
export interface MemorySearchOptions {
  readonly nprobe?: number;
}

export interface IvfSearchParams {
  /** Below this many vectors every search is an exact scan. */
  readonly exactBelow: number;
  /** Lists probed per query, unfiltered. */
  readonly nprobe: number;
}

export interface IvfSearch {
  searchSync(
    vector: ArrayLike<number>,
    k: number,
    filter?: SearchFilter,
    opts?: MemorySearchOptions,
  ): SearchHit[];
  exactSearch(vector: ArrayLike<number>, k: number, filter?: SearchFilter): SearchHit[];
}

/**
 * Search over an IVF state: rank every (normalised) leaf centroid, scan the nearest `nprobe`
 * lists, more of them under a language filter; exact scans while the index is small. One query
 * buffer per index, so searches are synchronous and not re-entrant.
 */
export function createIvfSearch(st: IvfState, p: IvfSearchParams): IvfSearch {
  const dim = st.dim;
  const query = new Float32Array(dim);
  // The query's non-zero coordinates. The offline embedder hashes a sentence's n-grams into a
  // quarter of the dimensions or so; a dot product with a stored vector then only needs those,
  // which makes a probe several times cheaper for the same (exact) scores. A dense query (a model
  // embedding) keeps the dense loop.
  const qIdx = new Int32Array(dim);
  const qVal = new Float32Array(dim);
  let qNnz = dim;
  let qSparse = false;

  function prepareQuery(vector: ArrayLike<number>, k: number): void {
    checkVector(dim, vector, 'query');
    if (!(Number.isInteger(k) && k >= 0)) invalidArgument(`k must be a non-negative integer, got ${k}`);
    normaliseInto(vector, query, 0, dim);
    qNnz = 0;
    for (let j = 0; j < dim; j++) {
      const x = query[j]!;
      if (x !== 0) {
        qIdx[qNnz] = j;
        qVal[qNnz] = x;
        qNnz++;
      }
    }
    qSparse = qNnz * 2 < dim;
  }

  /** The query's dot product with row `i` of `v` (row-major, `dim` wide). */
  function qdot(v: Float32Array, i: number): number {
    if (!qSparse) return dot(v, i * dim, query, 0, dim);
    const base = i * dim;
    let s0 = 0;
    let s1 = 0;
    const end = qNnz - (qNnz & 1);
    let j = 0;
    for (; j < end; j += 2) {
      s0 += v[base + qIdx[j]!]! * qVal[j]!;
      s1 += v[base + qIdx[j + 1]!]! * qVal[j + 1]!;
    }
    if (j < qNnz) s0 += v[base + qIdx[j]!]! * qVal[j]!;
    return s0 + s1;
  }

  /** Offers the list's vectors (of language `lang`, when >= 0) to `top`; returns how many it looked at. */
  function scanList(list: InvertedList, top: TopK, lang: number): number {
    const v = list.vecs;
    const n = list.size;
    if (lang < 0) {
      for (let i = 0; i < n; i++) top.offer(qdot(v, i), list.slots[i]!);
      return n;
    }
    const langs = list.langs;
    let seen = 0;
    for (let i = 0; i < n; i++) {
      if (langs[i] === lang) {
        top.offer(qdot(v, i), list.slots[i]!);
        seen++;
      }
    }
    return seen;
  }

  function hits(top: TopK): SearchHit[] {
    const [scores, slots] = top.sorted();
    return slots.map((slot, i) => ({
      id: st.ids[slot]!,
      score: Math.max(-1, Math.min(1, scores[i]!)),
      payload: st.payloads[slot]!,
    }));
  }

  /** −1 = no filter; −2 = a language nothing is stored in. */
  function filterLang(filter?: SearchFilter): number {
    if (filter?.language === undefined) return -1;
    const id = st.langIds.get(filter.language);
    return id === undefined || st.langTotals[id] === 0 ? -2 : id;
  }

  function exactSearch(vector: ArrayLike<number>, k: number, filter?: SearchFilter): SearchHit[] {
    prepareQuery(vector, k);
    const lang = filterLang(filter);
    if (lang === -2 || k === 0) return [];
    const top = new TopK(k);
    for (const list of st.lists) scanList(list, top, lang);
    return hits(top);
  }

  function searchSync(
    vector: ArrayLike<number>,
    k: number,
    filter?: SearchFilter,
    opts?: MemorySearchOptions,
  ): SearchHit[] {
    const lists = st.lists;
    const n = st.slotOf.size;
    if (n < p.exactBelow || lists.length === 1) return exactSearch(vector, k, filter);
    prepareQuery(vector, k);
    const lang = filterLang(filter);
    if (lang === -2 || k === 0) return [];
    refreshCentroids(st);
    const centroids = st.centroids;
    const order: { l: number; s: number }[] = [];
    for (let l = 0; l < lists.length; l++) {
      if (lists[l]!.size > 0) order.push({ l, s: qdot(centroids, l) });
    }
    // A filter keeps only a share of each list, so probe more lists, nearest first, until about as
    // many matching vectors were looked at as an unfiltered search looks at (`want` lists' worth),
    // at most want / share lists. Where lists are mixed that is the cap; where the language
    // separates them (texts in different scripts share no n-grams, so their lists do too) the
    // nearest `want` lists already hold enough, and probing past them would only double the cost.
    const share = lang < 0 ? 1 : st.langTotals[lang]! / n;
    const want = opts?.nprobe ?? p.nprobe;
    const maxProbe = Math.min(order.length, Math.ceil(want / Math.max(share, 1e-9)));
    const byScore = (x: { l: number; s: number }, y: { l: number; s: number }) => y.s - x.s || x.l - y.l;
    const candidates = selectTop(order, maxProbe, byScore);
    if (lang >= 0) candidates.sort(byScore);
    const enough = want * (n / order.length);
    const top = new TopK(k);
    let seen = 0;
    let used = 0;
    for (const { l } of candidates) {
      if (used >= want && seen >= enough) break;
      seen += scanList(lists[l]!, top, lang);
      used++;
    }
    const probe = used === candidates.length ? candidates : candidates.slice(0, used);
    if (top.size < k && probe.length < order.length) {
      // Too few matches in the probed lists (a rare language): keep going, nearest lists first.
      const probed = new Set(probe.map((x) => x.l));
      const rest = order.filter((x) => !probed.has(x.l)).sort(byScore);
      for (const { l } of rest) {
        if (top.size >= k) break;
        scanList(lists[l]!, top, lang);
      }
    }
    return hits(top);
  }

  return { searchSync, exactSearch };
}

/** The best `n` of `items` (unordered), by partial selection: nprobe ≪ lists, so no full sort. */
function selectTop<T>(items: readonly T[], n: number, cmp: (a: T, b: T) => number): T[] {
  if (n >= items.length) return [...items];
  const best: T[] = [];
  for (const it of items) {
    if (best.length < n) {
      best.push(it);
      if (best.length === n) best.sort(cmp);
      continue;
    }
    if (cmp(it, best[n - 1]!) >= 0) continue;
    let i = n - 1;
    while (i > 0 && cmp(it, best[i - 1]!) < 0) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = it;
  }
  return best;
}
