import { type InvertedList, type IvfState, newList, newNode, pushToList } from './ivf-storage.ts';
import { dot } from './vector-math.ts';

/** How the coarse quantiser is trained: list splits and the routing of inserts. */
export interface TrainingParams {
  readonly maxListSize: number;
  readonly splitIterations: number;
  readonly insertBeam: number;
  /** Seeded, so the same upserts always build the same index. */
  readonly rnd: () => number;
}

function dotSum(dim: number, sum: Float64Array, v: Float32Array, vo: number): number {
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
function addToNode(
  st: IvfState,
  n: number,
  v: Float32Array,
  vo: number,
  sign: 1 | -1,
  vNormSq: number,
): void {
  const dim = st.dim;
  const node = st.nodes[n]!;
  const sum = node.sum;
  // |s ± v|² = |s|² ± 2 s·v + |v|², with s·v taken before the update.
  node.normSq = Math.max(0, node.normSq + sign * 2 * dotSum(dim, sum, v, vo) + vNormSq);
  if (sign > 0) for (let j = 0; j < dim; j++) sum[j]! += v[vo + j]!;
  else for (let j = 0; j < dim; j++) sum[j]! -= v[vo + j]!;
}

/** Adds a unit vector to the sums of list `l`'s leaf and every node above it. */
export function addToPath(st: IvfState, l: number, v: Float32Array, vo: number): void {
  const vNormSq = dot(v, vo, v, vo, st.dim);
  for (let n = st.lists[l]!.node; n >= 0; n = st.nodes[n]!.parent) addToNode(st, n, v, vo, 1, vNormSq);
}

/** Takes a stored slot's vector out of the sums of its leaf and every node above it. */
export function removeFromPath(st: IvfState, slot: number): void {
  const list = st.lists[st.slotList[slot]!]!;
  const vo = st.slotPos[slot]! * st.dim;
  const vNormSq = dot(list.vecs, vo, list.vecs, vo, st.dim);
  for (let n = list.node; n >= 0; n = st.nodes[n]!.parent) addToNode(st, n, list.vecs, vo, -1, vNormSq);
}

function nodeScore(st: IvfState, n: number, v: Float32Array): number {
  const node = st.nodes[n]!;
  return node.normSq > 0 ? dotSum(st.dim, node.sum, v, 0) / Math.sqrt(node.normSq) : Number.NEGATIVE_INFINITY;
}

/**
 * Beam search down the split tree: keeps the `insertBeam` most similar internal nodes per level
 * and returns the leaf list whose centroid is most similar among all leaves reached. A greedy
 * descent (beam 1) misroutes vectors that lie near an upper split's hyperplane, which costs
 * recall; a beam of a few recovers nearly all of it at a fraction of a flat scan's cost.
 */
export function route(st: IvfState, p: TrainingParams, v: Float32Array): number {
  const nodes = st.nodes;
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
        const s = nodeScore(st, c, v);
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
    frontier = next.slice(0, p.insertBeam).map((x) => x.n);
  }
  return nodes[bestLeaf]!.list;
}

/** Recomputes the stale rows of the normalised leaf centroids that queries rank. */
export function refreshCentroids(st: IvfState): void {
  const dim = st.dim;
  for (let l = 0; l < st.lists.length; l++) {
    if (st.dirty[l] === 0) continue;
    const sum = st.nodes[st.lists[l]!.node]!.sum;
    let s = 0;
    for (let j = 0; j < dim; j++) s += sum[j]! * sum[j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    const co = l * dim;
    for (let j = 0; j < dim; j++) st.centroids[co + j] = sum[j]! * inv;
    st.dirty[l] = 0;
  }
}

function ensureCentroidCapacity(st: IvfState, n: number): void {
  const dim = st.dim;
  if (n * dim <= st.centroids.length) return;
  const cap = Math.max(n, 2 * (st.centroids.length / dim));
  const c = new Float32Array(cap * dim);
  c.set(st.centroids);
  st.centroids = c;
  const d = new Uint8Array(cap).fill(1);
  d.set(st.dirty);
  st.dirty = d;
}

/**
 * Splits an overfull list with spherical 2-means over its members: its leaf becomes an internal
 * node with two children, one keeping the list, one with a new list. Either side still too
 * large (only when the first split carves up the exact-mode list) is split again.
 */
export function splitList(st: IvfState, p: TrainingParams, l0: number): void {
  const { dim, nodes, lists } = st;
  const queue = [l0];
  while (queue.length > 0) {
    const l = queue.pop()!;
    const list = lists[l]!;
    const m = list.size;
    if (m <= p.maxListSize) continue;
    const side = twoMeans(dim, p, list);
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
    nodes.push(newNode(dim, parent, l), newNode(dim, parent, nl));
    nodes[parent]!.left = na;
    nodes[parent]!.right = nbNode;
    nodes[parent]!.list = -1;
    ensureCentroidCapacity(st, nl + 1);
    // A quarter of headroom: full-size lists would hold ~40 % empty rows on average.
    lists[l] = newList(dim, Math.ceil((m - nb) * 1.25), na);
    lists.push(newList(dim, Math.ceil(nb * 1.25), nbNode));
    for (let i = 0; i < m; i++) {
      const child = side[i] === 0 ? na : nbNode;
      pushToList(st, side[i] === 0 ? l : nl, list.vecs, i * dim, list.slots[i]!, list.langs[i]!);
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
    st.splits++;
    queue.push(l, nl);
  }
}

/** Seeded spherical 2-means over a list's members: which side (0 or 1) each member goes to. */
function twoMeans(dim: number, p: TrainingParams, list: InvertedList): Uint8Array {
  const m = list.size;
  const v = list.vecs;
  const c = new Float32Array(2 * dim);
  const first = Math.floor(p.rnd() * m);
  c.set(v.subarray(first * dim, first * dim + dim), 0);
  // k-means++ for the second seed: far from the first, but not simply the farthest outlier.
  const far = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    far[i] = Math.max(0, 1 - dot(v, i * dim, c, 0, dim));
    total += far[i]!;
  }
  let target = p.rnd() * total;
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
  for (let it = 0; it < p.splitIterations; it++) {
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
