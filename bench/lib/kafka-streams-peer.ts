/**
 * The Kafka Streams peer of the session join (bench/peers/kafka-streams-join): built with Maven by
 * bench/peers/build.sh (cached), run as a JVM in its own process group, timed like our processor,
 * and killed (the whole group) when the measurement ends or the benchmark exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Kafka } from 'kafkajs';
import { ROOT } from './common.ts';

/** The runnable jar, or why it could not be built. */
export function buildPeer(): { jar: string } | { error: string } {
  const r = spawnSync('bash', [join(ROOT, 'bench/peers/build.sh'), 'kafka-streams-join'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  const jar = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !jar) return { error: `bench/peers/build.sh failed (exit ${r.status})` };
  return { jar };
}

const live = new Set<ChildProcess>();
function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal); // the JVM and anything it started: its own process group
  } catch {
    // already gone
  }
}
// Whatever way the benchmark ends, no JVM outlives it.
process.on('exit', () => {
  for (const p of live) killGroup(p, 'SIGKILL');
});

export interface PeerRunOptions {
  readonly jar: string;
  readonly brokers: string;
  readonly appId: string;
  readonly inputTopics: readonly string[];
  readonly outputTopic: string;
  readonly windowMs: number;
  readonly graceMs: number;
  /** Records on the input topics: the run ends when the peer's group has committed them all. */
  readonly total: number;
  readonly threads?: number;
  readonly heap?: string;
  /** Streams or client settings passed through, e.g. { 'max.task.idle.ms': '-1' }. */
  readonly config?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface PeerRun {
  readonly events: number;
  readonly ms: number;
  readonly events_per_s: number;
  readonly emitted: number;
  /** JVM start → first record processed (excluded from the figure, like our group join). */
  readonly startup_ms: number;
  /** First record → the last one processed (the rest, to `ms`, is flushing and committing). */
  readonly processed_ms: number | null;
  /** Of that, time inside the join processor (JSON, store, join); the rest is Streams and I/O. */
  readonly in_processor_ms: number | null;
  /** CPU the JVM used from the first record to the end (all its threads), in seconds. */
  readonly cpu_s: number | null;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) in clock ticks; 100 per second on Linux
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** Sum of the offsets `group` has committed on `topics` (fresh topics: = records consumed). */
async function committed(kafka: Kafka, group: string, topics: readonly string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId: group, topics: [...topics] });
    let n = 0;
    for (const t of res) for (const p of t.partitions) n += Math.max(0, Number(p.offset));
    return n;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Runs the peer on fresh state until every input record is committed (Kafka Streams commits only
 * after its producer flushed the outputs, so that is "every output written"), timed from the
 * first record the processor saw (its wall clock, printed on stdout) to the poll (every 20 ms)
 * that saw the last commit. Then stops the JVM's process group.
 */
export async function runPeer(kafka: Kafka, o: PeerRunOptions): Promise<PeerRun> {
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-peer-'));
  const started = Date.now();
  const p = spawn(
    'java',
    [
      `-Xmx${o.heap ?? '1g'}`,
      '-XX:+UseG1GC',
      '-jar',
      o.jar,
      ...['--brokers', o.brokers, '--app-id', o.appId, '--topics', o.inputTopics.join(',')],
      ...['--output', o.outputTopic, '--window-ms', String(o.windowMs), '--grace-ms', String(o.graceMs)],
      ...['--state-dir', stateDir, '--threads', String(o.threads ?? 1), '--expect', String(o.total)],
      ...[
        '--config',
        Object.entries(o.config ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ],
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(p);
  let first = 0;
  let emitted = 0;
  let processedAt = 0;
  let inProcessor: number | null = null;
  let cpuAtFirst: number | null = null;
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  createInterface({ input: p.stdout! }).on('line', (line) => {
    try {
      const m = JSON.parse(line) as { first?: number; emitted?: number; at?: number; process_ms?: number };
      if (typeof m.process_ms === 'number') inProcessor = m.process_ms;
      if (typeof m.first === 'number') {
        first = m.first;
        cpuAtFirst = p.pid === undefined ? null : cpuSecondsOf(p.pid);
      }
      if (typeof m.emitted === 'number') emitted = m.emitted;
      if (typeof m.at === 'number') processedAt = m.at;
    } catch {
      // not one of ours
    }
  });
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 600_000);
    let last = 0;
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null) {
        throw new Error(
          `kafka streams peer exited early (${p.exitCode ?? p.signalCode}): ${stderr.slice(-1500)}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`kafka streams peer: no end after ${o.timeoutMs ?? 600_000} ms`);
      // Nothing can be committed before the first record: poll the broker only after it.
      if (first > 0 && (await committed(kafka, o.appId, o.inputTopics)) >= o.total) {
        last = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = last - first;
    const cpuNow = p.pid === undefined ? null : cpuSecondsOf(p.pid);
    return {
      events: o.total,
      ms,
      events_per_s: (o.total / ms) * 1000,
      emitted,
      startup_ms: first - started,
      processed_ms: processedAt > 0 ? processedAt - first : null,
      in_processor_ms: inProcessor,
      cpu_s: cpuNow !== null && cpuAtFirst !== null ? cpuNow - cpuAtFirst : null,
    };
  } finally {
    killGroup(p, 'SIGTERM');
    const t = setTimeout(() => killGroup(p, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    live.delete(p);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
