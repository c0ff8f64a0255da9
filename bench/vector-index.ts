/**
 * Benchmark of the in-process vector index (and of scoring, the other half of `/recommend`'s CPU).
 *
 *   npx tsx bench/vector-index.ts [--n 100000] [--queries 1000] [--dim 384] [--seed 7]
 *
 * Builds n clustered unit vectors (see streams/vector/synthetic-vectors.ts), 80 % "ko" and 20 %
 * "en", measures the build, then for 1,000 fresh queries from the same distribution: exact search
 * (the brute-force baseline, and the ground truth), IVF search at several nprobe values with
 * recall@10 and latency percentiles, a language-filtered search, and `scoreOptions` on real hits.
 * Prints a table and writes bench/results/vector-index.json with the machine it ran on. The
 * machine may be shared: the load average before and after is recorded next to the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SCORING_CONFIG, explorationDraw, indexOptions, scoreOptions } from '../api/scoring/index.ts';
import { createMemoryVectorIndex } from '../api/vector/memory-vector-index.ts';
import type { ContextPayload, SearchHit, VectorPoint } from '../api/vector/vector-index.ts';
import { DEFAULT_VOCABULARY, type UserProfile } from '../schemas/index.ts';
import { emptyProfile } from '../streams/reducers/evolve-profile.ts';
import { clusteredUnitVectors } from '../test/fixtures/synthetic-vectors.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '1000' },
    dim: { type: 'string', default: '384' },
    seed: { type: 'string', default: '7' },
  },
});
const n = Number(args.n);
const nq = Number(args.queries);
const dim = Number(args.dim);
const seed = Number(args.seed);
const K = 10;
const NPROBES = [4, 8, 16, 32];

const loadBefore = os.loadavg();
const optionKeys = indexOptions(DEFAULT_VOCABULARY).keys;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function latency(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50_ms: r(percentile(s, 50)),
    p95_ms: r(percentile(s, 95)),
    p99_ms: r(percentile(s, 99)),
    max_ms: r(s[s.length - 1]!),
  };
}

function recallAt(hits: readonly SearchHit[][], truth: readonly Set<string>[]): number {
  let found = 0;
  let want = 0;
  hits.forEach((h, i) => {
    want += truth[i]!.size;
    for (const x of h) if (truth[i]!.has(x.id)) found++;
  });
  return want === 0 ? 1 : found / want;
}

console.log(`generating ${n} × ${dim} clustered unit vectors and ${nq} queries (seed ${seed})…`);
const { data, labels } = clusteredUnitVectors({ n, dim, seed });
const queries = clusteredUnitVectors({ n: nq, dim, seed, pointSeed: seed + 1000 }).data;
const query = (i: number) => queries.subarray(i * dim, i * dim + dim);

const points: VectorPoint[] = Array.from({ length: n }, (_, i) => {
  // Options follow the topic, so that neighbours carry a signal scoring can use.
  const option = optionKeys[labels[i]! % optionKeys.length]!;
  const [category, intensity] = option.split(':') as [string, ContextPayload['intensity']];
  const payload: ContextPayload = {
    option_key: option,
    category,
    intensity,
    style_request: null,
    language: i % 5 === 0 ? 'en' : 'ko',
    user_id: `u${i % 10_000}`,
    consistency: 'high',
    example_id: `h:rs-${i}:1`,
    ts: '2026-01-01T00:00:00.000Z',
  };
  return { id: `rs-${i}`, vector: data.subarray(i * dim, i * dim + dim), payload };
});

const index = createMemoryVectorIndex({ dim });
const memBefore = process.memoryUsage();
const t0 = performance.now();
const batch = 1000;
for (let i = 0; i < n; i += batch) index.upsertSync(points.slice(i, i + batch));
const buildMs = performance.now() - t0;
const memAfter = process.memoryUsage();
const stats = index.stats();
console.log(
  `built in ${(buildMs / 1000).toFixed(2)} s (${((buildMs * 1000) / n).toFixed(1)} µs/insert): ` +
    `${stats.lists} lists, largest ${stats.largestList}, tree depth ${stats.treeDepth}`,
);

// Warm-up so the percentiles measure compiled code, not the JIT.
for (let i = 0; i < 50; i++) {
  index.exactSearch(query(i % nq), K);
  index.searchSync(query(i % nq), K);
}

console.log('exact search (ground truth)…');
const truth: Set<string>[] = [];
const exactMs: number[] = [];
for (let i = 0; i < nq; i++) {
  const t = performance.now();
  const hits = index.exactSearch(query(i), K);
  exactMs.push(performance.now() - t);
  truth.push(new Set(hits.map((h) => h.id)));
}

interface Row {
  readonly mode: string;
  readonly nprobe: number | null;
  readonly recall_at_10: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}
const rows: Row[] = [{ mode: 'exact (brute force)', nprobe: null, recall_at_10: 1, ...latency(exactMs) }];

for (const nprobe of NPROBES) {
  const ms: number[] = [];
  const got: SearchHit[][] = [];
  for (let i = 0; i < nq; i++) {
    const t = performance.now();
    got.push(index.searchSync(query(i), K, undefined, { nprobe }));
    ms.push(performance.now() - t);
  }
  rows.push({ mode: 'ivf', nprobe, recall_at_10: recallAt(got, truth), ...latency(ms) });
}

// Through the async port, as the API calls it (default nprobe).
{
  const ms: number[] = [];
  const got: SearchHit[][] = [];
  for (let i = 0; i < nq; i++) {
    const t = performance.now();
    got.push(await index.search(query(i), K));
    ms.push(performance.now() - t);
  }
  rows.push({
    mode: 'ivf, async port',
    nprobe: stats.nprobe,
    recall_at_10: recallAt(got, truth),
    ...latency(ms),
  });
}

// A minority language: the index probes ~1/share as many lists to see as many candidates.
{
  const filter = { language: 'en' };
  const truthEn = Array.from(
    { length: nq },
    (_, i) => new Set(index.exactSearch(query(i), K, filter).map((h) => h.id)),
  );
  const ms: number[] = [];
  const got: SearchHit[][] = [];
  for (let i = 0; i < nq; i++) {
    const t = performance.now();
    got.push(index.searchSync(query(i), K, filter));
    ms.push(performance.now() - t);
  }
  rows.push({
    mode: 'ivf, language = en (20 %)',
    nprobe: stats.nprobe,
    recall_at_10: recallAt(got, truthEn),
    ...latency(ms),
  });
}

// Scoring: 21 options, 20 real neighbours, a profile with a 384-dim mean context per option.
function benchProfile(): UserProfile {
  const p = emptyProfile('u-bench');
  optionKeys.forEach((key, i) => {
    p.options[key] = { selected: 1 + (i % 5), accepted: i % 3 };
    p.option_embeddings[key] = { n: 1 + (i % 5), vector: Array.from(query(i % nq)) };
  });
  p.version = 42;
  return p;
}
const profile = benchProfile();
const cluster = {
  cluster_id: 3,
  version: 1,
  ts: '2026-01-01T00:00:00.000Z',
  size: 120,
  centroid: [],
  option_distribution: Object.fromEntries(optionKeys.map((k, i) => [k, (i + 1) / 231])),
  top_option: optionKeys[20]!,
};
const scoringInputs = Array.from({ length: 100 }, (_, i) => ({
  vocabulary: DEFAULT_VOCABULARY,
  language: 'ko',
  neighbours: index.searchSync(query(i), 20),
  doc: { field: 'report', history: { 'report:strong': 2 } },
  profile,
  embedding: query(i),
  cluster,
  config: DEFAULT_SCORING_CONFIG,
  draw: explorationDraw(`rs-bench-${i}`),
}));
for (let i = 0; i < 2000; i++) scoreOptions(scoringInputs[i % 100]!);
const scoreMs: number[] = [];
for (let i = 0; i < 10_000; i++) {
  const t = performance.now();
  scoreOptions(scoringInputs[i % 100]!);
  scoreMs.push(performance.now() - t);
}
const scoring = latency(scoreMs);

const loadAfter = os.loadavg();
const cpus = os.cpus();
const result = {
  benchmark: 'vector-index',
  ts: new Date().toISOString(),
  params: { n, dim, queries: nq, k: K, seed, languages: { ko: 0.8, en: 0.2 } },
  index: {
    defaults: { exactBelow: 5000, maxListSize: 512, nprobe: stats.nprobe, insertBeam: 3, splitIterations: 6 },
    stats,
    build_s: Math.round(buildMs) / 1000,
    build_us_per_insert: Math.round((buildMs * 1000) / n),
    heap_mb_delta: Math.round((memAfter.heapUsed - memBefore.heapUsed) / 2 ** 20),
    array_buffers_mb_delta: Math.round((memAfter.arrayBuffers - memBefore.arrayBuffers) / 2 ** 20),
  },
  search: rows,
  scoring: { options: optionKeys.length, neighbours: 20, profile_dim: dim, ...scoring },
  machine: {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    free_memory_gb: Math.round((os.freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg_before: loadBefore.map((x) => Math.round(x * 100) / 100),
    loadavg_after: loadAfter.map((x) => Math.round(x * 100) / 100),
  },
};

console.log('');
console.table(
  rows.map((r) => ({
    mode: r.mode,
    nprobe: r.nprobe ?? '—',
    'recall@10': r.recall_at_10.toFixed(4),
    'p50 ms': r.p50_ms,
    'p95 ms': r.p95_ms,
    'p99 ms': r.p99_ms,
  })),
);
console.log(
  `scoreOptions (21 options, 20 neighbours, ${dim}-dim profile): p50 ${(scoring.p50_ms * 1000).toFixed(0)} µs, ` +
    `p99 ${(scoring.p99_ms * 1000).toFixed(0)} µs`,
);
console.log(
  `machine: ${result.machine.cores} × ${result.machine.cpu}, ${result.machine.memory_gb} GB, node ${process.version}, ` +
    `load ${loadBefore[0]!.toFixed(2)} → ${loadAfter[0]!.toFixed(2)}`,
);

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const out = new URL('vector-index.json', dir);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
