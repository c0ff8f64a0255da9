/**
 * Shared plumbing for the benchmarks: statistics, the machine a run was measured on, result files
 * and the services lookup. Every benchmark is its own script (so `bench/run.ts` can run each in a
 * fresh process, with its own heap and JIT state) and writes `bench/results/<name>.json`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { environment } from '../../common/environment.ts';
import { type ServiceUrls, unreachable } from '../../scripts/services/reachable.ts';

export const ROOT = join(import.meta.dirname, '../..');
export const RESULTS_DIR = join(ROOT, 'bench/results');

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function latencySummary(ms: readonly number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return {
    samples: s.length,
    p50_ms: round(percentile(s, 50), 2),
    p90_ms: round(percentile(s, 90), 2),
    p99_ms: round(percentile(s, 99), 2),
    max_ms: round(s[s.length - 1] ?? Number.NaN, 2),
    mean_ms: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), 2),
  };
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly memory_gb: number;
  readonly node: string;
  readonly platform: string;
  readonly loadavg: number[];
  readonly date: string;
}

/** The machine is shared: the load average is recorded next to the figures. */
export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => round(x, 2)),
    date: new Date().toISOString(),
  };
}

/** What every `bench/results/<name>.json` holds; `figures` feed `summary.json`. */
export interface BenchResult {
  readonly benchmark: string;
  /** The workload in a sentence or two, and the command that reproduces it. */
  readonly workload: string;
  readonly reproduce: string;
  readonly quick: boolean;
  readonly params: Record<string, unknown>;
  /** Summary keys (see bench/run.ts) → value; null when skipped or failed. */
  readonly figures: Record<string, number | null>;
  /** Set when the benchmark did not run (no services, …). */
  readonly skipped?: string;
  readonly notes?: readonly string[];
  readonly details?: Record<string, unknown>;
  readonly machine: Machine;
}

export function writeResult(r: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${r.benchmark}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

export function readResult(name: string): BenchResult | null {
  const file = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  } catch {
    return null;
  }
}

export type { ServiceUrls };

/**
 * KAFKA_BROKERS / REDIS_URL from the environment, else from `.services.env` (written by
 * `npm run services:up`); null with the reason when neither has them. Bench scripts are their
 * own composition roots, so this is where they read the environment.
 */
export function serviceUrls(): ServiceUrls | { readonly missing: string } {
  const env = environment(process.env.SERVICES_ENV_FILE ?? join(ROOT, '.services.env'));
  const kafkaBrokers = env.KAFKA_BROKERS;
  const redisUrl = env.REDIS_URL;
  if (!kafkaBrokers || !redisUrl) {
    return {
      missing: 'no services: KAFKA_BROKERS/REDIS_URL unset and no .services.env (run `npm run services:up`)',
    };
  }
  return { kafkaBrokers, redisUrl };
}

/** Services for a benchmark that needs them, or the reason it must skip. */
export async function requireServices(): Promise<ServiceUrls | { readonly missing: string }> {
  const s = serviceUrls();
  if ('missing' in s) return s;
  const why = await unreachable(s, { retries: 1 });
  return why ? { missing: why } : s;
}

export const fmt = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined || Number.isNaN(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
