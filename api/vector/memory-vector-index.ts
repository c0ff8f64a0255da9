import { mulberry32 } from '../../common/random.ts';
import type { ContextPayload, SearchFilter, SearchHit, VectorIndex, VectorPoint } from './vector-index.ts';
import { VectorIndexError } from './vector-index.ts';
import { dot, normaliseInto, TopK } from './vector-math.ts';

export interface MemoryVectorIndexOptions {
  readonly dim: number;
  /**
   * Below this many vectors every search is an exact scan (default 5,000). A 5k × 384 scan is
   * ~2M multiply-adds (~2 ms here), about what an IVF probe costs at 100k, so an approximate
   * index buys nothing yet and would only cost recall.
   */
  readonly exactBelow?: number;
  /**
   * An inverted list that grows past this many vectors is split in two (default 512). Lists then
   * hold ~310 vectors on average, so at 100k there are ~320 lists: ranking the centroids costs
   * ~320 × dim per query, and each probed list ~310 × dim. Smaller lists make each probe cheaper
   * but ranking and splitting dearer (256 roughly doubles the build time for no better latency
   * at 100k × 384); larger ones make each probe dearer.
   */
  readonly maxListSize?: number;
  /**
   * Lists probed per query (default 8): the nearest 8 of ~320 centroids at 100k, i.e. ~2.5 % of
   * the vectors (~1M multiply-adds, ~1.5 ms here), for recall@10 ≈ 0.99 on clustered data; 16
   * buys ~0.5 % more recall for twice the time (bench/vector-index.ts prints the curve). A
   * language filter raises it in proportion to how rare the language is.
   */
  readonly nprobe?: number;
  /** Lloyd iterations of the 2-means that splits a list (default 6; it converges in 3–5). */
  readonly splitIterations?: number;
  /** Width of the beam an insert descends the split tree with (default 3; 1 = greedy). */
  readonly insertBeam?: number;
  /** Seed of the split initialisation, so the same upserts always build the same index. */
  readonly seed?: number;
}

export interface MemoryVectorIndexStats {
  readonly size: number;
  readonly lists: number;
  readonly nonEmptyLists: number;
  readonly largestList: number;
  /** Longest root-to-list path of the split tree: the number of levels an insert descends. */
  readonly treeDepth: number;
  readonly splits: number;
  /** True while searches are exact scans. */
  readonly exact: boolean;
  readonly nprobe: number;
}

/** The in-process index, with synchronous twins of the port for hot paths and evaluation. */
export interface MemoryVectorIndex extends VectorIndex {
  upsertSync(points: readonly VectorPoint[]): void;
  deleteSync(ids: readonly string[]): void;
  searchSync(
    vector: ArrayLike<number>,
    k: number,
    filter?: SearchFilter,
    opts?: MemorySearchOptions,
  ): SearchHit[];
  /** Exhaustive search over the same stored vectors: the ground truth for recall. */
  exactSearch(vector: ArrayLike<number>, k: number, filter?: SearchFilter): SearchHit[];
  stats(): MemoryVectorIndexStats;
}

interface InvertedList {
  /** size × dim unit vectors, contiguous so a probe is one linear scan. */
  vecs: Float32Array;
  slots: Int32Array;
  /** Interned language per entry, beside the vectors so the filter costs no indirection. */
  langs: Int32Array;
  size: number;
  /** Its leaf in the split tree. */
  node: number;
}

/**
 * A node of the split tree. Every split turns a leaf into an internal node with two children, so
 * the tree records the bisecting k-means that built the lists. The sum of the members' vectors is
 * the (unnormalised) spherical centroid; its squared norm is kept alongside so routing can compare
 * `v·sum / |sum|` without renormalising anything.
 */
interface SplitNode {
  sum: Float64Array;
  normSq: number;
  parent: number;
  /** −1 for a leaf. */
  left: number;
  right: number;
  /** The list of a leaf, −1 for an internal node. */
  list: number;
}

const DEFAULTS = {
  exactBelow: 5_000,
  maxListSize: 512,
  nprobe: 8,
  splitIterations: 6,
  insertBeam: 3,
  seed: 1,
};

/** Per-call knobs for evaluation (recall against nprobe), not part of the port. */
export interface MemorySearchOptions {
  readonly nprobe?: number;
}

/**
 * An in-process IVF (inverted-file) index for cosine similarity: vectors are stored unit length in
 * inverted lists, each with a centroid; a search ranks all the centroids and scans only the
 * `nprobe` nearest lists. Exact while small (`exactBelow`).
 *
 * The coarse quantiser is trained incrementally instead of by a periodic global k-means: when a
 * list outgrows `maxListSize` it is split by a seeded spherical 2-means over its own members, and
 * centroids follow their members as running sums. Growing from 0 to n vectors this way is
 * bisecting k-means, amortised over the inserts: a split costs O(maxListSize · dim · iterations)
 * (a few ms) where a global re-train at 100k would block the event loop for seconds — and in the
 * embedded wiring that loop also answers `/recommend`. The splits form a binary tree, and an
 * insert descends it with a small beam (≤ 2·beam dot products per level, ~12 levels at 100k)
 * instead of comparing with all ~320 centroids: building 100k × 384 took ~9 s here against ~15 s,
 * and a vector goes down the same hyperplanes that partitioned its neighbours. Queries still rank
 * every centroid exactly. Deterministic for a seed and a sequence of upserts and deletes.
 *
 * @example
 * const index = createMemoryVectorIndex({ dim: 384 });
 * await index.upsert([{ id: 'rs-1', vector: embedding, payload }]);
 * const hits = await index.search(query, 20, { language: 'ko' });
 */
export function createMemoryVectorIndex(options: MemoryVectorIndexOptions): MemoryVectorIndex {
  const dim = options.dim;
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  if (!Number.isInteger(dim) || dim <= 0) invalid(`dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(o.maxListSize) || o.maxListSize < 2) invalid('maxListSize must be an integer >= 2');
  if (!Number.isInteger(o.nprobe) || o.nprobe < 1) invalid('nprobe must be an integer >= 1');
  if (!(o.exactBelow >= 0)) invalid('exactBelow must be >= 0');
  if (!Number.isInteger(o.insertBeam) || o.insertBeam < 1) invalid('insertBeam must be an integer >= 1');
  if (!Number.isInteger(o.splitIterations) || o.splitIterations < 1) {
    invalid('splitIterations must be an integer >= 1');
  }
  const rnd = mulberry32(o.seed);

  const nodes: SplitNode[] = [newNode(-1, 0)];
  const lists: InvertedList[] = [newList(16, 0)];
  /** Normalised leaf centroids, one row per list, refreshed lazily for query routing. */
  let centroids = new Float32Array(4 * dim);
  let dirty = new Uint8Array(4).fill(1);
  let splits = 0;

  // Slot-indexed metadata; a slot is reused after a delete.
  const slotOf = new Map<string, number>();
  const ids: string[] = [];
  const payloads: (ContextPayload | null)[] = [];
  let slotList = new Int32Array(1024);
  let slotPos = new Int32Array(1024);
  const freeSlots: number[] = [];

  const langIds = new Map<string, number>();
  const langTotals: number[] = [];

  const scratch = new Float32Array(dim);
  const query = new Float32Array(dim);
  // The query's non-zero coordinates. The offline embedder hashes a sentence's n-grams into a
  // quarter of the dimensions or so; a dot product with a stored vector then only needs those,
  // which makes a probe several times cheaper for the same (exact) scores. A dense query (a model
  // embedding) keeps the dense loop.
  const qIdx = new Int32Array(dim);
  const qVal = new Float32Array(dim);
  let qNnz = dim;
  let qSparse = false;

  function newNode(parent: number, list: number): SplitNode {
    return { sum: new Float64Array(dim), normSq: 0, parent, left: -1, right: -1, list };
  }

  function newList(capacity: number, node: number): InvertedList {
    return {
      vecs: new Float32Array(capacity * dim),
      slots: new Int32Array(capacity),
      langs: new Int32Array(capacity),
      size: 0,
      node,
    };
  }

  function langId(language: string): number {
    let id = langIds.get(language);
    if (id === undefined) {
      id = langIds.size;
      langIds.set(language, id);
      langTotals.push(0);
    }
    return id;
  }

  function refreshCentroids(): void {
    for (let l = 0; l < lists.length; l++) {
      if (dirty[l] === 0) continue;
      const sum = nodes[lists[l]!.node]!.sum;
      let s = 0;
      for (let j = 0; j < dim; j++) s += sum[j]! * sum[j]!;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      const co = l * dim;
      for (let j = 0; j < dim; j++) centroids[co + j] = sum[j]! * inv;
      dirty[l] = 0;
    }
  }

  function ensureCentroidCapacity(n: number): void {
    if (n * dim <= centroids.length) return;
    const cap = Math.max(n, 2 * (centroids.length / dim));
    const c = new Float32Array(cap * dim);
    c.set(centroids);
    centroids = c;
    const d = new Uint8Array(cap).fill(1);
    d.set(dirty);
    dirty = d;
  }

  function dotSum(sum: Float64Array, v: Float32Array, vo: number): number {
    let s0 = 0;
    let s1 = 0;
    let j = 0;
    const end = dim - (dim & 1);
    for (; j < end; j += 2) {
      s0 += sum[j]! * v[vo + j]!;
      s1 += sum[j + 1]! * v[vo + j + 1]!;
    }
    if (j < dim) s0 += sum[j]! * v[vo + j]!;
    return s0 + s1;
  }

  /** Adds (sign 1) or removes (sign −1) a unit vector to a node's sum, keeping |sum|² exact. */
  function addToNode(n: number, v: Float32Array, vo: number, sign: 1 | -1, vNormSq: number): void {
    const node = nodes[n]!;
    const sum = node.sum;
    // |s ± v|² = |s|² ± 2 s·v + |v|², with s·v taken before the update.
    node.normSq = Math.max(0, node.normSq + sign * 2 * dotSum(sum, v, vo) + vNormSq);
    if (sign > 0) for (let j = 0; j < dim; j++) sum[j]! += v[vo + j]!;
    else for (let j = 0; j < dim; j++) sum[j]! -= v[vo + j]!;
  }

  function nodeScore(n: number, v: Float32Array): number {
    const node = nodes[n]!;
    return node.normSq > 0 ? dotSum(node.sum, v, 0) / Math.sqrt(node.normSq) : Number.NEGATIVE_INFINITY;
  }

  /**
   * Beam search down the split tree: keeps the `insertBeam` most similar internal nodes per level
   * and returns the leaf list whose centroid is most similar among all leaves reached. A greedy
   * descent (beam 1) misroutes vectors that lie near an upper split's hyperplane, which costs
   * recall; a beam of a few recovers nearly all of it at a fraction of a flat scan's cost.
   */
  function route(v: Float32Array): number {
    if (nodes.length === 1) return 0;
    let frontier = [0];
    let bestLeaf = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    const next: { n: number; s: number }[] = [];
    while (frontier.length > 0) {
      next.length = 0;
      for (const f of frontier) {
        const node = nodes[f]!;
        for (const c of [node.left, node.right]) {
          const s = nodeScore(c, v);
          const child = nodes[c]!;
          if (child.left < 0) {
            if (s > bestScore || bestLeaf < 0) {
              bestScore = s;
              bestLeaf = c;
            }
          } else {
            next.push({ n: c, s });
          }
        }
      }
      next.sort((x, y) => y.s - x.s || x.n - y.n);
      frontier = next.slice(0, o.insertBeam).map((x) => x.n);
    }
    return nodes[bestLeaf]!.list;
  }

  function growList(list: InvertedList): void {
    // ×1.5 rather than ×2: vectors are nearly all of the memory, and lists stop growing at a split.
    const cap = Math.max(16, Math.ceil(list.slots.length * 1.5));
    const vecs = new Float32Array(cap * dim);
    vecs.set(list.vecs.subarray(0, list.size * dim));
    const slots = new Int32Array(cap);
    slots.set(list.slots.subarray(0, list.size));
    const langs = new Int32Array(cap);
    langs.set(list.langs.subarray(0, list.size));
    list.vecs = vecs;
    list.slots = slots;
    list.langs = langs;
  }

  /** Appends to a list's storage only; the caller keeps the tree sums right. */
  function pushToList(l: number, v: Float32Array, vo: number, slot: number, lang: number): void {
    const list = lists[l]!;
    if (list.size === list.slots.length) growList(list);
    const pos = list.size++;
    list.vecs.set(v.subarray(vo, vo + dim), pos * dim);
    list.slots[pos] = slot;
    list.langs[pos] = lang;
    dirty[l] = 1;
    slotList[slot] = l;
    slotPos[slot] = pos;
  }

  function removeFromList(slot: number): void {
    const l = slotList[slot]!;
    const pos = slotPos[slot]!;
    const list = lists[l]!;
    const vo = pos * dim;
    const vNormSq = dotSelf(list.vecs, vo);
    for (let n = list.node; n >= 0; n = nodes[n]!.parent) addToNode(n, list.vecs, vo, -1, vNormSq);
    const last = list.size - 1;
    if (pos !== last) {
      // Swap-remove keeps the list contiguous; only the moved entry's position changes.
      list.vecs.copyWithin(vo, last * dim, last * dim + dim);
      const moved = list.slots[last]!;
      list.slots[pos] = moved;
      list.langs[pos] = list.langs[last]!;
      slotPos[moved] = pos;
    }
    list.size = last;
    dirty[l] = 1;
  }

  function dotSelf(v: Float32Array, vo: number): number {
    return dot(v, vo, v, vo, dim);
  }

  function allocSlot(): number {
    const free = freeSlots.pop();
    if (free !== undefined) return free;
    const slot = ids.length;
    ids.push('');
    payloads.push(null);
    if (slot >= slotList.length) {
      const a = new Int32Array(slotList.length * 2);
      a.set(slotList);
      slotList = a;
      const b = new Int32Array(slotPos.length * 2);
      b.set(slotPos);
      slotPos = b;
    }
    return slot;
  }

  function removeId(id: string): void {
    const slot = slotOf.get(id);
    if (slot === undefined) return;
    removeFromList(slot);
    const lang = payloads[slot]!.language;
    langTotals[langIds.get(lang)!]! -= 1;
    slotOf.delete(id);
    ids[slot] = '';
    payloads[slot] = null;
    freeSlots.push(slot);
  }

  /**
   * Splits an overfull list with spherical 2-means over its members: its leaf becomes an internal
   * node with two children, one keeping the list, one with a new list. Either side still too
   * large (only when the first split carves up the exact-mode list) is split again.
   */
  function splitList(l0: number): void {
    const queue = [l0];
    while (queue.length > 0) {
      const l = queue.pop()!;
      const list = lists[l]!;
      const m = list.size;
      if (m <= o.maxListSize) continue;
      const side = twoMeans(list);
      let nb = 0;
      for (let i = 0; i < m; i++) nb += side[i]!;
      if (nb === 0 || nb === m) {
        // Identical vectors cannot be told apart: halve by position so no list grows unbounded.
        for (let i = 0; i < m; i++) side[i] = i < m >> 1 ? 0 : 1;
        nb = m - (m >> 1);
      }
      const parent = list.node;
      const nl = lists.length;
      const na = nodes.length;
      const nbNode = na + 1;
      nodes.push(newNode(parent, l), newNode(parent, nl));
      nodes[parent]!.left = na;
      nodes[parent]!.right = nbNode;
      nodes[parent]!.list = -1;
      ensureCentroidCapacity(nl + 1);
      // A quarter of headroom: full-size lists would hold ~40 % empty rows on average.
      lists[l] = newList(Math.ceil((m - nb) * 1.25), na);
      lists.push(newList(Math.ceil(nb * 1.25), nbNode));
      for (let i = 0; i < m; i++) {
        const child = side[i] === 0 ? na : nbNode;
        pushToList(side[i] === 0 ? l : nl, list.vecs, i * dim, list.slots[i]!, list.langs[i]!);
        const sum = nodes[child]!.sum;
        const vo = i * dim;
        for (let j = 0; j < dim; j++) sum[j]! += list.vecs[vo + j]!;
      }
      for (const c of [na, nbNode]) {
        const sum = nodes[c]!.sum;
        let s = 0;
        for (let j = 0; j < dim; j++) s += sum[j]! * sum[j]!;
        nodes[c]!.normSq = s;
      }
      splits++;
      queue.push(l, nl);
    }
  }

  function twoMeans(list: InvertedList): Uint8Array {
    const m = list.size;
    const v = list.vecs;
    const c = new Float32Array(2 * dim);
    const first = Math.floor(rnd() * m);
    c.set(v.subarray(first * dim, first * dim + dim), 0);
    // k-means++ for the second seed: far from the first, but not simply the farthest outlier.
    const far = new Float64Array(m);
    let total = 0;
    for (let i = 0; i < m; i++) {
      far[i] = Math.max(0, 1 - dot(v, i * dim, c, 0, dim));
      total += far[i]!;
    }
    let target = rnd() * total;
    let second = (first + 1) % m;
    for (let i = 0; i < m && total > 0; i++) {
      target -= far[i]!;
      if (target <= 0) {
        second = i;
        break;
      }
    }
    c.set(v.subarray(second * dim, second * dim + dim), dim);
    const side = new Uint8Array(m);
    const sums = new Float64Array(2 * dim);
    // Unit centroids: v·c1 > v·c0 ⇔ v·(c1 − c0) > 0, one dot product per member instead of two.
    const diff = new Float32Array(dim);
    for (let it = 0; it < o.splitIterations; it++) {
      for (let j = 0; j < dim; j++) diff[j] = c[dim + j]! - c[j]!;
      let changed = it === 0;
      for (let i = 0; i < m; i++) {
        const s = dot(v, i * dim, diff, 0, dim) > 0 ? 1 : 0;
        if (s !== side[i]) {
          side[i] = s;
          changed = true;
        }
      }
      if (!changed) break;
      sums.fill(0);
      for (let i = 0; i < m; i++) {
        const so = side[i]! * dim;
        const vo = i * dim;
        for (let j = 0; j < dim; j++) sums[so + j]! += v[vo + j]!;
      }
      for (let s = 0; s < 2; s++) {
        let n2 = 0;
        for (let j = 0; j < dim; j++) n2 += sums[s * dim + j]! ** 2;
        if (n2 === 0) continue;
        const inv = 1 / Math.sqrt(n2);
        for (let j = 0; j < dim; j++) c[s * dim + j] = sums[s * dim + j]! * inv;
      }
    }
    return side;
  }

  function checkVector(vector: ArrayLike<number>, what: string): void {
    if (vector.length !== dim) {
      throw new VectorIndexError(
        'vector_dimension_mismatch',
        `${what}: vector has ${vector.length} dimensions, the index ${dim}`,
      );
    }
    for (let j = 0; j < dim; j++) {
      if (!Number.isFinite(vector[j])) {
        throw new VectorIndexError('vector_not_finite', `${what}: component ${j} is ${vector[j]}`);
      }
    }
  }

  function upsertOne(p: VectorPoint): void {
    normaliseInto(p.vector, scratch, 0, dim);
    removeId(p.id);
    const slot = allocSlot();
    const lang = langId(p.payload.language);
    slotOf.set(p.id, slot);
    ids[slot] = p.id;
    payloads[slot] = p.payload;
    langTotals[lang]! += 1;
    const l = route(scratch);
    const vNormSq = dotSelf(scratch, 0);
    for (let n = lists[l]!.node; n >= 0; n = nodes[n]!.parent) addToNode(n, scratch, 0, 1, vNormSq);
    pushToList(l, scratch, 0, slot, lang);
    if (slotOf.size >= o.exactBelow && lists[l]!.size > o.maxListSize) splitList(l);
  }

  function upsertSync(points: readonly VectorPoint[]): void {
    // Validate the whole batch first so a bad point cannot leave half a batch applied.
    for (const p of points) checkVector(p.vector, `point ${p.id}`);
    for (const p of points) upsertOne(p);
  }

  function deleteSync(toDelete: readonly string[]): void {
    for (const id of toDelete) removeId(id);
  }

  function prepareQuery(vector: ArrayLike<number>, k: number): void {
    checkVector(vector, 'query');
    if (!(Number.isInteger(k) && k >= 0)) invalid(`k must be a non-negative integer, got ${k}`);
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
      id: ids[slot]!,
      score: Math.max(-1, Math.min(1, scores[i]!)),
      payload: payloads[slot]!,
    }));
  }

  /** −1 = no filter; −2 = a language nothing is stored in. */
  function filterLang(filter?: SearchFilter): number {
    if (filter?.language === undefined) return -1;
    const id = langIds.get(filter.language);
    return id === undefined || langTotals[id] === 0 ? -2 : id;
  }

  function exactSearch(vector: ArrayLike<number>, k: number, filter?: SearchFilter): SearchHit[] {
    prepareQuery(vector, k);
    const lang = filterLang(filter);
    if (lang === -2 || k === 0) return [];
    const top = new TopK(k);
    for (const list of lists) scanList(list, top, lang);
    return hits(top);
  }

  function searchSync(
    vector: ArrayLike<number>,
    k: number,
    filter?: SearchFilter,
    opts?: MemorySearchOptions,
  ): SearchHit[] {
    const n = slotOf.size;
    if (n < o.exactBelow || lists.length === 1) return exactSearch(vector, k, filter);
    prepareQuery(vector, k);
    const lang = filterLang(filter);
    if (lang === -2 || k === 0) return [];
    refreshCentroids();
    const order: { l: number; s: number }[] = [];
    for (let l = 0; l < lists.length; l++) {
      if (lists[l]!.size > 0) order.push({ l, s: qdot(centroids, l) });
    }
    // A filter keeps only a share of each list, so probe more lists, nearest first, until about as
    // many matching vectors were looked at as an unfiltered search looks at (`want` lists' worth),
    // at most want / share lists. Where lists are mixed that is the cap; where the language
    // separates them (texts in different scripts share no n-grams, so their lists do too) the
    // nearest `want` lists already hold enough, and probing past them would only double the cost.
    const share = lang < 0 ? 1 : langTotals[lang]! / n;
    const want = opts?.nprobe ?? o.nprobe;
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
      const probed = new Set(probe.map((p) => p.l));
      const rest = order.filter((p) => !probed.has(p.l)).sort(byScore);
      for (const { l } of rest) {
        if (top.size >= k) break;
        scanList(lists[l]!, top, lang);
      }
    }
    return hits(top);
  }

  function stats(): MemoryVectorIndexStats {
    let largest = 0;
    let nonEmpty = 0;
    for (const l of lists) {
      if (l.size > largest) largest = l.size;
      if (l.size > 0) nonEmpty++;
    }
    let depth = 0;
    for (const l of lists) {
      let d = 0;
      for (let n = l.node; nodes[n]!.parent >= 0; n = nodes[n]!.parent) d++;
      if (d > depth) depth = d;
    }
    return {
      size: slotOf.size,
      lists: lists.length,
      nonEmptyLists: nonEmpty,
      largestList: largest,
      treeDepth: depth,
      splits,
      exact: slotOf.size < o.exactBelow || lists.length === 1,
      nprobe: o.nprobe,
    };
  }

  return {
    backend: 'memory',
    dim,
    upsertSync,
    deleteSync,
    searchSync,
    exactSearch,
    stats,
    upsert: async (points) => upsertSync(points),
    delete: async (toDelete) => deleteSync(toDelete),
    search: async (vector, k, filter) => searchSync(vector, k, filter),
    size: async () => slotOf.size,
  };
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

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function invalid(message: string): never {
  throw new VectorIndexError('vector_index_invalid_argument', `createMemoryVectorIndex: ${message}`);
}
