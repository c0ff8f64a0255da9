/**
 * join-ab — before/after comparison of the session-join operator on a noisy machine: another
 * copy of streams/ (e.g. the files of an older commit, extracted with `git show`) and this tree's
 * run in alternation on the same deliveries as bench/join-throughput.ts, each next to the same
 * keyed fold, so the ratio old ÷ new is a same-run figure.
 *
 *   npx tsx bench/join-ab.ts --old /tmp/old-tree [--sessions 60000] [--runs 5]
 *
 * `--old` is a directory holding streams/operators/join-by-session.ts (and what it imports, with
 * schemas/ and node_modules/ linked to this tree's).
 */
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { DEFAULT_TOPICS } from '../schemas/index.ts';
import { joinBySession } from '../streams/operators/join-by-session.ts';
import type { SessionRecord } from '../streams/state/session-join.ts';
import { median } from './lib/common.ts';
import { GRACE_MS, keyedFold, Placer, steadyTraffic, toDeliveries, WINDOW_MS } from './lib/join-workload.ts';

const { values: args } = parseArgs({
  options: {
    old: { type: 'string' },
    sessions: { type: 'string', default: '60000' },
    runs: { type: 'string', default: '5' },
  },
});
if (!args.old) throw new Error('--old <dir> is required');
const oldMod = (await import(`${args.old}/streams/operators/join-by-session.ts`)) as {
  joinBySession: typeof joinBySession;
};
const sessions = Number(args.sessions);
const runs = Number(args.runs);
const partitions = 6;
const inputTopics = [DEFAULT_TOPICS.recommend, DEFAULT_TOPICS.paraphrase, DEFAULT_TOPICS.selection];

/**
 * The deliveries of one run, generated 10k sessions at a time exactly as join-throughput does
 * (fresh event objects and strings each run, so no run profits from hashes cached by another);
 * only `feed` is timed.
 */
function timed(feed: (records: SessionRecord[]) => void): { rate: number; cpuRate: number; events: number } {
  const placer = new Placer(partitions);
  let ms = 0;
  let cpuUs = 0;
  let events = 0;
  for (const chunk of steadyTraffic({ sessions, users: 10_000, seed: 11, spacingMs: 50, partitions })) {
    const batches = toDeliveries(
      chunk.map((e) => placer.place(e)),
      9000,
    );
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const records of batches) feed(records);
    ms += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    events += chunk.length;
  }
  // CPU time of the process (all its threads, GC helpers included) as well as wall time: with the
  // machine shared, the wall clock also counts the time spent waiting for a core.
  return { rate: (events / ms) * 1000, cpuRate: (events / cpuUs) * 1e6, events };
}

function join(op: typeof joinBySession): { rate: number; cpuRate: number; examples: number; events: number } {
  const input = new Subject<{ records: SessionRecord[] }>();
  let examples = 0;
  input.pipe(op({ inputTopics, windowMs: WINDOW_MS, graceMs: GRACE_MS })).subscribe((r) => {
    examples += r.examples.length;
  });
  const { rate, cpuRate, events } = timed((records) => input.next({ records }));
  return { rate, cpuRate, examples, events };
}

/** The keyed fold of bench/join-throughput.ts (`keyedFold`). */
function fold(): { rate: number; cpuRate: number } {
  const step = keyedFold();
  let examples = 0;
  const r = timed((records) => {
    examples += step(records);
  });
  if (examples < 0) throw new Error('unreachable');
  return r;
}

join(oldMod.joinBySession);
join(joinBySession);
fold();
const oldR: number[] = [];
const newR: number[] = [];
const foldR: number[] = [];
const oldC: number[] = [];
const newC: number[] = [];
const foldC: number[] = [];
let events = 0;
for (let i = 0; i < runs; i++) {
  const o = join(oldMod.joinBySession);
  const f = fold();
  const n = join(joinBySession);
  if (o.examples !== n.examples) throw new Error(`H counts differ: old ${o.examples}, new ${n.examples}`);
  events = o.events;
  oldR.push(o.rate);
  newR.push(n.rate);
  foldR.push(f.rate);
  oldC.push(o.cpuRate);
  newC.push(n.cpuRate);
  foldC.push(f.cpuRate);
  const k = (x: number) => `${Math.round(x / 1000)}k`;
  console.log(
    `  ${i + 1}/${runs} wall: old ${k(o.rate)}, new ${k(n.rate)} (×${(n.rate / o.rate).toFixed(2)}), fold ${k(f.rate)}; ` +
      `cpu: old ${k(o.cpuRate)}, new ${k(n.cpuRate)} (×${(n.cpuRate / o.cpuRate).toFixed(2)}), fold ${k(f.cpuRate)} events/s`,
  );
}
for (const [what, o, n, f] of [
  ['wall', oldR, newR, foldR],
  ['cpu', oldC, newC, foldC],
] as const) {
  const [mo, mn, mf] = [median(o), median(n), median(f)];
  console.log(
    `join-ab (${what}): ${events} events per run; medians old ${Math.round(mo)}, new ${Math.round(mn)} events/s ` +
      `(new ÷ old ${(mn / mo).toFixed(2)}); fold ${Math.round(mf)}: old ÷ fold ${(mo / mf).toFixed(3)}, new ÷ fold ${(mn / mf).toFixed(3)}`,
  );
}
