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

for (let run = 0; run <= runs; run++) {
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
    ms += performance.now() - t0;
    events += chunk.length;
  }
  console.log(
    `${run === 0 ? 'warm-up' : `run ${run}`}: ${events} events in ${ms.toFixed(0)} ms = ` +
      `${Math.round((events / ms) * 1000)} events/s, ${examples} H`,
  );
}
