import { mulberry32 } from '../../common/random.ts';
import { createIvfSearch, type MemorySearchOptions } from './ivf-search.ts';
import {
  allocSlot,
  checkVector,
  createIvfState,
  invalidArgument as invalid,
  langId,
  pushToList,
  removeFromListStorage,
} from './ivf-storage.ts';
import { addToPath, removeFromPath, route, splitList, type TrainingParams } from './ivf-training.ts';
import type { SearchFilter, SearchHit, VectorIndex, VectorPoint } from './vector-index.ts';
import { normaliseInto } from './vector-math.ts';

export type { MemorySearchOptions } from './ivf-search.ts';

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

const DEFAULTS = {
  exactBelow: 5_000,
  maxListSize: 512,
  nprobe: 8,
  splitIterations: 6,
  insertBeam: 3,
  seed: 1,
};

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
  const training: TrainingParams = {
    maxListSize: o.maxListSize,
    splitIterations: o.splitIterations,
    insertBeam: o.insertBeam,
    rnd: mulberry32(o.seed),
  };
  const st = createIvfState(dim);
  const { nodes, lists, slotOf, ids, payloads } = st;
  const { searchSync, exactSearch } = createIvfSearch(st, { exactBelow: o.exactBelow, nprobe: o.nprobe });
  const scratch = new Float32Array(dim);

  function removeId(id: string): void {
    const slot = slotOf.get(id);
    if (slot === undefined) return;
    removeFromPath(st, slot);
    removeFromListStorage(st, slot);
    const lang = payloads[slot]!.language;
    st.langTotals[st.langIds.get(lang)!]! -= 1;
    slotOf.delete(id);
    ids[slot] = '';
    payloads[slot] = null;
    st.freeSlots.push(slot);
  }

  function upsertOne(p: VectorPoint): void {
    normaliseInto(p.vector, scratch, 0, dim);
    removeId(p.id);
    const slot = allocSlot(st);
    const lang = langId(st, p.payload.language);
    slotOf.set(p.id, slot);
    ids[slot] = p.id;
    payloads[slot] = p.payload;
    st.langTotals[lang]! += 1;
    const l = route(st, training, scratch);
    addToPath(st, l, scratch, 0);
    pushToList(st, l, scratch, 0, slot, lang);
    if (slotOf.size >= o.exactBelow && lists[l]!.size > o.maxListSize) splitList(st, training, l);
  }

  function upsertSync(points: readonly VectorPoint[]): void {
    // Validate the whole batch first so a bad point cannot leave half a batch applied.
    for (const p of points) checkVector(dim, p.vector, `point ${p.id}`);
    for (const p of points) upsertOne(p);
  }

  function deleteSync(toDelete: readonly string[]): void {
    for (const id of toDelete) removeId(id);
  }

  function deleteByUserSync(userId: string): number {
    const mine: string[] = [];
    for (const [id, slot] of slotOf) if (payloads[slot]?.user_id === userId) mine.push(id);
    deleteSync(mine);
    return mine.length;
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
      splits: st.splits,
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
    deleteByUser: async (userId) => deleteByUserSync(userId),
    search: async (vector, k, filter) => searchSync(vector, k, filter),
    size: async () => slotOf.size,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
