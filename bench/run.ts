/**
 * The benchmark suite (issue 6): runs every benchmark, each in its own process, prints a table and
 * writes bench/results/<name>.json per benchmark plus bench/results/summary.json.
 *
 *   npx tsx bench/run.ts [--quick] [--only join-throughput,join-memory,…]
 *
 * --quick: a short smoke run (small sizes, seconds each) of the benchmarks that need no services;
 * the ones that need Kafka/Redis are skipped. Without --quick, those run when KAFKA_BROKERS and
 * REDIS_URL (or .services.env from `npm run services:up`) point at reachable services, and skip
 * with the reason otherwise. Benchmarks are never asserted in tests: a missed target is reported,
 * not failed (the exit code is non-zero only when a benchmark crashed).
 *
 * Figures are measured on whatever machine runs this, next to whatever else runs there: the
 * machine (cores, memory, Node, load average) is recorded with every result, and the figures that
 * would be noise as absolute numbers are ratios against a baseline taken in the same run.
 */
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchResult,
  fmt,
  machine,
  RESULTS_DIR,
  ROOT,
  readResult,
  requireServices,
} from './lib/common.ts';

interface Figure {
  /** Key in summary.json. */
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly digits: number;
  /** Human-readable target, and the check (absent: reported only). */
  readonly target: string;
  readonly pass?: (value: number, result: BenchResult) => boolean;
}

interface Bench {
  readonly name: string;
  /** The script, relative to the repository root. */
  readonly script: string;
  readonly args?: (quick: boolean) => string[];
  /** Name of the results file the script writes (default: name). */
  readonly resultName?: string;
  readonly needsServices?: boolean;
  /** Not runnable yet: the figures stay null with this note. */
  readonly pending?: string;
  readonly figures: readonly Figure[];
}

const BENCHES: readonly Bench[] = [
  {
    name: 'join-throughput',
    script: 'bench/join-throughput.ts',
    figures: [
      {
        key: 'join_events_per_s',
        label: 'session join, operator alone',
        unit: 'events/s',
        digits: 0,
        target: '≥ 300,000',
        pass: (v) => v >= 300_000,
      },
      {
        key: 'join_vs_keyed_fold',
        label: 'session join ÷ keyed fold (same run)',
        unit: '×',
        digits: 3,
        target: '≥ 0.5',
        pass: (v) => v >= 0.5,
      },
      {
        key: 'decode_events_per_s',
        label: 'A/B/C decode boundary (fast path)',
        unit: 'events/s',
        digits: 0,
        target: '—',
      },
    ],
  },
  {
    name: 'join-memory',
    script: 'bench/join-memory.ts',
    // Should the state grow again, stop feeding after 5 min rather than 30 and report how far it got.
    args: (quick) => (quick ? ['--quick'] : ['--budget-s', '300']),
    figures: [
      {
        key: 'join_memory_mb_after_1m_sessions',
        label: 'join heap after 1M sessions',
        unit: 'MB',
        digits: 1,
        target: 'flat (≤ +10 % from ½ to all)',
        pass: (_v, r) => r.details?.flat === true,
      },
    ],
  },
  {
    name: 'join-memory-complete-only',
    script: 'bench/join-memory.ts',
    args: (quick) => (quick ? ['--quick', '--complete-only'] : ['--complete-only']),
    figures: [
      {
        key: 'join_memory_mb_after_1m_sessions_happy_path',
        label: 'join heap after 1M sessions, happy path only',
        unit: 'MB',
        digits: 1,
        target: 'flat (≤ +10 % from ½ to all)',
        pass: (_v, r) => r.details?.flat === true,
      },
    ],
  },
  {
    name: 'join-kafka',
    script: 'bench/join-kafka.ts',
    needsServices: true,
    figures: [
      {
        key: 'join_kafka_ratio',
        label: 'join through Kafka ÷ raw kafkajs',
        unit: '×',
        digits: 3,
        target: '≥ 0.5',
        pass: (v) => v >= 0.5,
      },
      {
        key: 'join_kafka_events_per_s',
        label: 'join through Kafka',
        unit: 'events/s',
        digits: 0,
        target: '—',
      },
      {
        key: 'kafka_streams_events_per_s',
        label: 'same join in Kafka Streams (peer)',
        unit: 'events/s',
        digits: 0,
        target: '—',
      },
      {
        key: 'join_vs_kafka_streams',
        label: 'join through Kafka ÷ Kafka Streams',
        unit: '×',
        digits: 3,
        target: '≥ 1.0',
        pass: (v) => v >= 1,
      },
    ],
  },
  {
    name: 'freshness',
    script: 'bench/freshness.ts',
    needsServices: true,
    figures: [
      { key: 'freshness_p50_ms', label: 'C produced → G in Redis, p50', unit: 'ms', digits: 1, target: '—' },
      {
        key: 'freshness_p99_ms',
        label: 'C produced → G in Redis, p99',
        unit: 'ms',
        digits: 1,
        target: '≤ 100',
        pass: (v) => v <= 100,
      },
    ],
  },
  {
    name: 'recluster',
    script: 'bench/recluster.ts',
    figures: [
      {
        key: 'recluster_100k_s',
        label: 're-cluster 100k users × 384 dims',
        unit: 's',
        digits: 2,
        target: '≤ 10',
        pass: (v) => v <= 10,
      },
      {
        key: 'loop_lag_p99_ms',
        label: 'main loop lag p99 meanwhile',
        unit: 'ms',
        digits: 1,
        target: '≤ 20',
        pass: (v) => v <= 20,
      },
    ],
  },
  {
    // Needs a MongoDB at MONGODB_URL (the local FerretDB of `npm run services:up`); skips without one.
    name: 'mongo-sink',
    script: 'bench/mongo-sink.ts',
    figures: [
      {
        key: 'mongo_sink_ratio',
        label: 'archive sink → MongoDB ÷ bare insertMany',
        unit: '×',
        digits: 3,
        target: '≥ 0.7',
        pass: (v) => v >= 0.7,
      },
    ],
  },
  {
    // Needs an Elasticsearch at ES_URL (the local node of `npm run services:up`); skips without one.
    name: 'es-sink',
    script: 'bench/es-sink.ts',
    args: (quick) => (quick ? ['--quick'] : []),
    figures: [
      {
        key: 'es_sink_ratio',
        label: 'golden sink → Elasticsearch ÷ bare client bulk',
        unit: '×',
        digits: 3,
        target: '≥ 0.7',
        pass: (v) => v >= 0.7,
      },
      { key: 'es_freshness_p50_ms', label: 'H → searchable in ES, p50', unit: 'ms', digits: 1, target: '—' },
      { key: 'es_freshness_p99_ms', label: 'H → searchable in ES, p99', unit: 'ms', digits: 1, target: '—' },
    ],
  },
  {
    name: 'vector-index',
    script: 'bench/vector-index.ts',
    // bench/vector-index.ts is its own script (owned elsewhere): it takes sizes, not --quick.
    args: (quick) => (quick ? ['--n', '20000', '--queries', '200'] : []),
    figures: [
      {
        key: 'index_recall_at_10',
        label: 'vector index recall@10 (default nprobe)',
        unit: '',
        digits: 4,
        target: '≥ 0.95',
        pass: (v) => v >= 0.95,
      },
      { key: 'index_p99_ms', label: 'vector index search p99', unit: 'ms', digits: 2, target: '—' },
    ],
  },
  {
    // Needs a Qdrant at QDRANT_URL (the local peer of `npm run services:up`); skips without one.
    name: 'qdrant',
    script: 'bench/qdrant.ts',
    figures: [
      {
        key: 'qdrant_recall_at_10',
        label: 'Qdrant recall@10 vs exact, after optimise',
        unit: '',
        digits: 4,
        target: '≥ 0.95',
        pass: (v) => v >= 0.95,
      },
      {
        key: 'qdrant_sink_ratio',
        label: 'index sink → Qdrant ÷ bare client upsert',
        unit: '×',
        digits: 3,
        target: '≥ 0.7',
        pass: (v) => v >= 0.7,
      },
      {
        key: 'qdrant_search_p99_ms',
        label: 'Qdrant search p99 (adapter)',
        unit: 'ms',
        digits: 1,
        target: '—',
      },
    ],
  },
  {
    // The HTTP API against a bare Hono endpoint, server in a child process (bench/recommend-load.ts),
    // one server worker per core as `API_WORKERS` deploys it; the same with one process below.
    name: 'recommend',
    script: 'bench/recommend-load.ts',
    args: (quick) => (quick ? ['--quick'] : []),
    figures: [
      {
        key: 'recommend_p99_ms_at_1000rps',
        label: '/recommend p99 at 1,000 req/s',
        unit: 'ms',
        digits: 1,
        target: '≤ 25',
        pass: (v) => v <= 25,
      },
      {
        key: 'recommend_overhead_ratio',
        label: '/recommend HTTP ÷ in-process search + scoring',
        unit: '×',
        digits: 3,
        target: '≥ 0.5',
        pass: (v) => v >= 0.5,
      },
      {
        key: 'recommend_p99_ms_memory_200rps',
        label: '/recommend p99 at 200 req/s, in-process index',
        unit: 'ms',
        digits: 1,
        target: '—',
      },
      {
        // Null (noted) when QDRANT_URL is unset or does not answer.
        key: 'recommend_p99_ms_qdrant_200rps',
        label: '/recommend p99 at 200 req/s, Qdrant',
        unit: 'ms',
        digits: 1,
        target: '—',
      },
    ],
  },
  {
    name: 'recommend-one-process',
    script: 'bench/recommend-load.ts',
    args: (quick) => [
      ...(quick ? ['--quick'] : []),
      '--workers',
      '1',
      '--name',
      'recommend-one-process',
      '--no-sweep',
      '--no-qdrant',
    ],
    figures: [
      {
        key: 'recommend_p99_ms_at_1000rps_one_process',
        label: '/recommend p99 at 1,000 req/s, one process',
        unit: 'ms',
        digits: 1,
        target: '≤ 25',
        pass: (v) => v <= 25,
      },
      {
        key: 'recommend_overhead_ratio_one_process',
        label: '/recommend HTTP ÷ in-process, one process each',
        unit: '×',
        digits: 3,
        target: '≥ 0.5',
        pass: (v) => v >= 0.5,
      },
    ],
  },
];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const quick = args.quick!;
const only = args.only ? new Set(args.only.split(',').map((s) => s.trim())) : null;
if (only) {
  const unknown = [...only].filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`,
    );
    process.exit(2);
  }
}

/** Runs one script to completion with its output passed through. */
function runScript(script: string, scriptArgs: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...scriptArgs], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
}

/**
 * The figures of a vector-index run, read from the file bench/vector-index.ts writes (its own
 * format, left as it is).
 */
function vectorIndexFigures(): BenchResult | null {
  const raw = readResult('vector-index') as unknown as {
    search?: { mode: string; nprobe: number | null; recall_at_10: number; p99_ms: number }[];
    params?: Record<string, unknown>;
    machine?: BenchResult['machine'];
  } | null;
  const row = raw?.search?.find((r) => r.mode === 'ivf, async port');
  if (!raw || !row) return null;
  return {
    benchmark: 'vector-index',
    workload:
      'bench/vector-index.ts: IVF index over n clustered 384-dim unit vectors; recall@10 and p99 of the async ' +
      'search port at the default nprobe (the path /recommend takes), against exact search.',
    reproduce: 'npx tsx bench/vector-index.ts',
    quick: Number(raw.params?.n ?? 100_000) < 100_000,
    params: raw.params ?? {},
    figures: { index_recall_at_10: row.recall_at_10, index_p99_ms: row.p99_ms },
    details: { row, source: 'bench/results/vector-index.json' },
    machine: raw.machine ?? machine(),
  };
}

const started = Date.now();
const services = quick ? null : await requireServices();
const servicesMissing = quick
  ? 'skipped in --quick (needs Kafka/Redis)'
  : services && 'missing' in services
    ? services.missing
    : null;

const results = new Map<string, BenchResult | null>();
const notes = new Map<string, string>();
let crashed = 0;
for (const b of BENCHES) {
  if (only && !only.has(b.name)) {
    // Not selected: keep the figures of its last run, if any, and say where they come from.
    const earlier = b.pending
      ? null
      : b.name === 'vector-index'
        ? vectorIndexFigures()
        : readResult(b.resultName ?? b.name);
    if (earlier && earlier.quick === quick) {
      results.set(b.name, earlier);
      notes.set(b.name, `not run now: figures from the run of ${earlier.machine.date}`);
    }
    continue;
  }
  if (b.pending) {
    notes.set(b.name, b.pending);
    console.log(`\n=== ${b.name}: ${b.pending}`);
    continue;
  }
  if (b.needsServices && servicesMissing) {
    notes.set(b.name, `skipped: ${servicesMissing}`);
    console.log(`\n=== ${b.name}: skipped — ${servicesMissing}`);
    continue;
  }
  console.log(`\n=== ${b.name} (${b.script}${quick ? ', quick' : ''})`);
  const t0 = Date.now();
  const code = await runScript(b.script, b.args ? b.args(quick) : quick ? ['--quick'] : []);
  const file = join(RESULTS_DIR, `${b.resultName ?? b.name}.json`);
  let fresh = false;
  try {
    fresh = statSync(file).mtimeMs >= t0;
  } catch {
    fresh = false;
  }
  if (code !== 0 || !fresh) {
    crashed++;
    notes.set(b.name, `failed (exit code ${code}${fresh ? '' : ', no fresh results file'})`);
    console.log(`=== ${b.name}: failed (exit code ${code})`);
    continue;
  }
  const r = b.name === 'vector-index' ? vectorIndexFigures() : readResult(b.resultName ?? b.name);
  results.set(b.name, r);
  if (r?.skipped) notes.set(b.name, `skipped: ${r.skipped}`);
  for (const n of r?.notes ?? []) notes.set(b.name, n);
  console.log(`=== ${b.name}: done in ${fmt((Date.now() - t0) / 1000, 1)} s`);
}

// ---- summary ---------------------------------------------------------------------------------
const summary: Record<string, number | null> = {};
const rows: string[][] = [];
for (const b of BENCHES) {
  const r = results.get(b.name) ?? null;
  const ran = !(only && !only.has(b.name)) || r !== null;
  for (const f of b.figures) {
    const v = r?.figures[f.key];
    const value = typeof v === 'number' && Number.isFinite(v) ? v : null;
    summary[f.key] = value;
    const verdict =
      value === null
        ? ran
          ? (notes.get(b.name) ?? 'no figure')
          : 'not run'
        : f.pass
          ? f.pass(value, r!)
            ? 'pass'
            : 'MISS'
          : '—';
    rows.push([
      f.label,
      value === null ? '—' : `${fmt(value, f.digits)} ${f.unit}`.trim(),
      f.target,
      verdict,
    ]);
  }
}
const head = ['figure', 'value', 'target', 'result'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const r of rows) console.log(line(r));
const m = machine();
console.log(
  `\n${m.cores} × ${m.cpu}, ${m.memory_gb} GB, node ${m.node}, load ${m.loadavg.join(' ')}; ` +
    `${fmt((Date.now() - started) / 1000, 0)} s${quick ? ' (quick)' : ''}`,
);

const file = join(RESULTS_DIR, 'summary.json');
writeFileSync(
  file,
  `${JSON.stringify(
    {
      ...summary,
      quick,
      notes: Object.fromEntries(notes),
      machine: m,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${file}`);
process.exit(crashed > 0 ? 1 : 0);
