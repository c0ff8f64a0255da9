import type { ContextPayload } from './vector-index.ts';
import { VectorIndexError } from './vector-index.ts';

/** One inverted list: the unit vectors routed to one leaf of the split tree. */
export interface InvertedList {
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

/**
 * Everything the in-process IVF index holds: the lists and the split tree over them (written by
 * ivf-training.ts), and per slot the point's id, payload and where its vector is. A slot is
 * reused after a delete.
 */
export interface IvfState {
  readonly dim: number;
  readonly nodes: SplitNode[];
  readonly lists: InvertedList[];
  /** Normalised leaf centroids, one row per list, refreshed lazily for query routing. */
  centroids: Float32Array;
  /** Per list: 1 when its row of `centroids` is stale. */
  dirty: Uint8Array;
  splits: number;
  readonly slotOf: Map<string, number>;
  readonly ids: string[];
  readonly payloads: (ContextPayload | null)[];
  slotList: Int32Array;
  slotPos: Int32Array;
  readonly freeSlots: number[];
  readonly langIds: Map<string, number>;
  /** Points stored per interned language. */
  readonly langTotals: number[];
}

export function createIvfState(dim: number): IvfState {
  return {
    dim,
    nodes: [newNode(dim, -1, 0)],
    lists: [newList(dim, 16, 0)],
    centroids: new Float32Array(4 * dim),
    dirty: new Uint8Array(4).fill(1),
    splits: 0,
    slotOf: new Map(),
    ids: [],
    payloads: [],
    slotList: new Int32Array(1024),
    slotPos: new Int32Array(1024),
    freeSlots: [],
    langIds: new Map(),
    langTotals: [],
  };
}

export function newNode(dim: number, parent: number, list: number): SplitNode {
  return { sum: new Float64Array(dim), normSq: 0, parent, left: -1, right: -1, list };
}

export function newList(dim: number, capacity: number, node: number): InvertedList {
  return {
    vecs: new Float32Array(capacity * dim),
    slots: new Int32Array(capacity),
    langs: new Int32Array(capacity),
    size: 0,
    node,
  };
}

export function langId(st: IvfState, language: string): number {
  let id = st.langIds.get(language);
  if (id === undefined) {
    id = st.langIds.size;
    st.langIds.set(language, id);
    st.langTotals.push(0);
  }
  return id;
}

function growList(dim: number, list: InvertedList): void {
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
export function pushToList(
  st: IvfState,
  l: number,
  v: Float32Array,
  vo: number,
  slot: number,
  lang: number,
): void {
  const dim = st.dim;
  const list = st.lists[l]!;
  if (list.size === list.slots.length) growList(dim, list);
  const pos = list.size++;
  list.vecs.set(v.subarray(vo, vo + dim), pos * dim);
  list.slots[pos] = slot;
  list.langs[pos] = lang;
  st.dirty[l] = 1;
  st.slotList[slot] = l;
  st.slotPos[slot] = pos;
}

/** Removes a slot's vector from its list's storage only (swap-remove); the tree is the caller's. */
export function removeFromListStorage(st: IvfState, slot: number): void {
  const dim = st.dim;
  const l = st.slotList[slot]!;
  const pos = st.slotPos[slot]!;
  const list = st.lists[l]!;
  const vo = pos * dim;
  const last = list.size - 1;
  if (pos !== last) {
    // Swap-remove keeps the list contiguous; only the moved entry's position changes.
    list.vecs.copyWithin(vo, last * dim, last * dim + dim);
    const moved = list.slots[last]!;
    list.slots[pos] = moved;
    list.langs[pos] = list.langs[last]!;
    st.slotPos[moved] = pos;
  }
  list.size = last;
  st.dirty[l] = 1;
}

export function allocSlot(st: IvfState): number {
  const free = st.freeSlots.pop();
  if (free !== undefined) return free;
  const slot = st.ids.length;
  st.ids.push('');
  st.payloads.push(null);
  if (slot >= st.slotList.length) {
    const a = new Int32Array(st.slotList.length * 2);
    a.set(st.slotList);
    st.slotList = a;
    const b = new Int32Array(st.slotPos.length * 2);
    b.set(st.slotPos);
    st.slotPos = b;
  }
  return slot;
}

export function checkVector(dim: number, vector: ArrayLike<number>, what: string): void {
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

export function invalidArgument(message: string): never {
  throw new VectorIndexError('vector_index_invalid_argument', `createMemoryVectorIndex: ${message}`);
}
