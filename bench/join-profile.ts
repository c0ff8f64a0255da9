/**
 * join-profile — a driver for profiling the session-join operator alone (no keyed fold, no
 * decode), on the same workload and deliveries as bench/join-throughput.ts:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/join-profile.ts [--sessions 60000] [--runs 3]
 *   npx tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile
 *
 * Generation is outside the clock but inside the profile (its frames are the generator's:
 * test/fixtures/synthetic-sessions.ts, bench/lib/join-workload.ts). For line-level figures run an
 * esbuild bundle of this file (`npx esbuild bench/join-profile.ts --bundle --platform=node
 * --format=esm --outfile=/tmp/jp.mjs`) under `node --cpu-prof`: the hot lines are the bundle's.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { DEFAULT_TOPICS } from '../schemas/index.ts';
import { type JoinBatch, joinBySession } from '../streams/operators/join-by-session.ts';
import type { SessionRecord } from '../streams/state/session-join.ts';
import { GRACE_MS, Placer, steadyTraffic, toDeliveries, WINDOW_MS } from './lib/join-workload.ts';

const { values: args } = parseArgs({
  options: { sessions: { type: 'string', default: '60000' }, runs: { type: 'string', default: '3' } },
});
const sessions = Number(args.sessions);
const runs = Number(args.runs);
const partitions = 6;
const inputTopics = [DEFAULT_TOPICS.recommend, DEFAULT_TOPICS.paraphrase, DEFAULT_TOPICS.selection];

// Garbage-collection pauses on the main thread, to tell how much of the timed windows they take.
const gcs: { start: number; ms: number; kind: number }[] = [];
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs.push({
      start: e.startTime,
      ms: e.duration,
      kind: (e as { detail?: { kind?: number } }).detail?.kind ?? 0,
    });
  }
});
obs.observe({ entryTypes: ['gc'] });

for (let run = 0; run <= runs; run++) {
  const windows: [number, number][] = [];
  const input = new Subject<JoinBatch>();
  let examples = 0;
  input.pipe(joinBySession({ inputTopics, windowMs: WINDOW_MS, graceMs: GRACE_MS })).subscribe((r) => {
    examples += r.examples.length;
  });
  // Generated chunk by chunk as in join-throughput: fresh objects and strings every run.
  const placer = new Placer(partitions);
  let ms = 0;
  let events = 0;
  for (const chunk of steadyTraffic({ sessions, users: 10_000, seed: 11, spacingMs: 50, partitions })) {
    const deliveries: SessionRecord[][] = toDeliveries(
      chunk.map((e) => placer.place(e)),
      9000,
    );
    const t0 = performance.now();
    for (const records of deliveries) input.next({ records });
    const t1 = performance.now();
    windows.push([t0, t1]);
    ms += t1 - t0;
    events += chunk.length;
  }
  await sleep(100); // let the GC entries of this run arrive
  let gcMs = 0;
  let majorMs = 0;
  for (const g of gcs.splice(0)) {
    if (!windows.some(([a, b]) => g.start >= a && g.start < b)) continue;
    gcMs += g.ms;
    // kind 2: mark-compact (major); 1: scavenge (minor); 4: incremental marking; 8: weak callbacks.
    if (g.kind === 2) majorMs += g.ms;
  }
  console.log(
    `${run === 0 ? 'warm-up' : `run ${run}`}: ${events} events in ${ms.toFixed(0)} ms = ` +
      `${Math.round((events / ms) * 1000)} events/s, ${examples} H; GC pauses in the timed windows ` +
      `${gcMs.toFixed(0)} ms (${((gcMs / ms) * 100).toFixed(0)} %, mark-compact ${majorMs.toFixed(0)} ms)`,
  );
}
obs.disconnect();
