/**
 * join-memory — is the session join's state bounded at a steady rate?
 *
 *   npx tsx bench/join-memory.ts [--quick] [--sessions 1000000] [--every 100000] [--complete-only]
 *
 * (It re-runs itself under `node --expose-gc --max-old-space-size=6144` when started without gc.)
 *
 * Workload: 1M synthetic sessions at a steady event-time rate (one session start every 50 ms of
 * event time, i.e. 20 sessions/s for ~14 h of event time; the simulator's default session mix,
 * 10,000 users, 6 partitions), generated 10k sessions at a time and fed in append order through
 * `SessionJoin` in deliveries of one topic-partition each (~500 records), with drain() and
 * checkpoints() after every delivery as the topology does (outputs are dropped). Every 100k
 * sessions: a full GC, then heap used and the number of sessions held. With a 30 min window,
 * 10 min grace and 30 min tombstone, a bounded join holds ~84k sessions (70 min × 20/s) from about
 * 100k sessions on, and its heap stays flat; the figure is the heap after 1M sessions, and "flat"
 * means it grew ≤ 10 % between the 500k sample and the last one. `--complete-only` feeds only
 * happy-path sessions (no late or straggling events), to tell the state's own size from what the
 * edge cases add.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { DEFAULT_TOPICS } from '../schemas/index.ts';
import { SessionJoin } from '../streams/state/session-join.ts';
import { fmt, machine, round, writeResult } from './lib/common.ts';
import { GRACE_MS, Placer, steadyTraffic, toDeliveries, WINDOW_MS } from './lib/join-workload.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  // Heap figures need a full GC before each sample: run again with it exposed.
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=6144',
      '--import',
      'tsx',
      import.meta.filename,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    every: { type: 'string' },
    spacing: { type: 'string' },
    'complete-only': { type: 'boolean', default: false },
    'budget-s': { type: 'string' },
  },
});
const quick = args.quick!;
const sessions = Number(args.sessions ?? (quick ? 100_000 : 1_000_000));
const every = Number(args.every ?? (quick ? 20_000 : 100_000));
// Quick runs are short: a faster event-time rate (one session per 500 ms) so that sessions go
// through their whole life (~8.4k held) several times within 100k sessions.
const spacingMs = Number(args.spacing ?? (quick ? 500 : 50));
const completeOnly = args['complete-only']!;
// A join whose state is not bounded gets slower as it grows: past this much feeding time the run
// stops at the next sample and reports how far it got (the figure is then null).
const budgetS = Number(args['budget-s'] ?? (quick ? 120 : 1800));
const partitions = 6;
const users = 10_000;
const chunkSessions = 10_000;
if (every % chunkSessions !== 0) throw new Error(`--every must be a multiple of ${chunkSessions}`);

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
function heapNow() {
  gc!();
  const m = process.memoryUsage();
  return { heap_used_mb: mb(m.heapUsed), rss_mb: mb(m.rss), external_mb: mb(m.external) };
}

const baseline = heapNow();
const join = new SessionJoin({
  inputTopics: [DEFAULT_TOPICS.recommend, DEFAULT_TOPICS.paraphrase, DEFAULT_TOPICS.selection],
  windowMs: WINDOW_MS,
  graceMs: GRACE_MS,
});
const placer = new Placer(partitions);
interface Sample {
  sessions: number;
  events: number;
  heap_used_mb: number;
  rss_mb: number;
  held_sessions: number;
  /** Where the join would commit partition 0 of topic A (the next offset to read). */
  commit_offset_a0: number | null;
  read_offset_a0: number;
  events_per_s: number;
  elapsed_s: number;
}
const samples: Sample[] = [];
let fed = 0;
let events = 0;
let examples = 0;
let deadLetters = 0;
let segMs = 0;
let segEvents = 0;
let lastCommitA0: number | null = null;
let feedingMs = 0;
let stoppedEarly = false;
const t0 = performance.now();
console.log(
  `join-memory: ${fmt(sessions)} sessions${completeOnly ? ' (complete only)' : ''}, one per ${spacingMs} ms of event time; ` +
    `baseline heap ${baseline.heap_used_mb} MB`,
);
for (const chunk of steadyTraffic(
  { sessions, users, seed: 21, spacingMs, partitions, completeShare: completeOnly ? 1 : undefined },
  chunkSessions,
)) {
  const t = performance.now();
  for (const records of toDeliveries(
    chunk.map((e) => placer.place(e)),
    9000,
  )) {
    for (const r of records) join.push(r);
    const out = join.drain();
    examples += out.examples.length;
    deadLetters += out.deadLetters.length;
    for (const cp of join.checkpoints())
      if (cp.partition === 0 && cp.topic === DEFAULT_TOPICS.recommend) lastCommitA0 = cp.offset;
  }
  const dt = performance.now() - t;
  segMs += dt;
  feedingMs += dt;
  segEvents += chunk.length;
  events += chunk.length;
  fed += Math.min(chunkSessions, sessions - fed);
  const overBudget = feedingMs / 1000 > budgetS && fed % every === 0;
  if (fed % every === 0 || fed === sessions) {
    const h = heapNow();
    const s: Sample = {
      sessions: fed,
      events,
      heap_used_mb: h.heap_used_mb,
      rss_mb: h.rss_mb,
      held_sessions: join.heldSessions,
      commit_offset_a0: lastCommitA0,
      read_offset_a0: placer.nextOffset(DEFAULT_TOPICS.recommend, 0),
      events_per_s: round((segEvents / segMs) * 1000),
      elapsed_s: round((performance.now() - t0) / 1000, 1),
    };
    samples.push(s);
    segMs = 0;
    segEvents = 0;
    console.log(
      `  ${fmt(s.sessions).padStart(9)} sessions: heap ${fmt(s.heap_used_mb, 1).padStart(7)} MB, ` +
        `held ${fmt(s.held_sessions).padStart(9)}, commit A/0 at ${fmt(s.commit_offset_a0)} of ${fmt(s.read_offset_a0)}, ` +
        `${fmt(s.events_per_s)} events/s`,
    );
  }
  if (overBudget && fed < sessions) {
    stoppedEarly = true;
    console.log(`  stopping: ${fmt(feedingMs / 1000)} s of feeding is over the ${budgetS} s budget`);
    break;
  }
}

const last = samples[samples.length - 1]!;
const mid = samples.find((s) => s.sessions >= last.sessions / 2) ?? samples[0]!;
const growth = (last.heap_used_mb - mid.heap_used_mb) / mid.heap_used_mb;
const flat = growth <= 0.1;
const bytesPerSession =
  ((last.heap_used_mb - mid.heap_used_mb) * 2 ** 20) / Math.max(1, last.sessions - mid.sessions);
console.log(
  `join-memory: heap ${last.heap_used_mb} MB after ${fmt(last.sessions)} sessions, ${fmt(last.held_sessions)} held; ` +
    `${growth >= 0 ? '+' : ''}${round(growth * 100, 1)} % since ${fmt(mid.sessions)} (${fmt(bytesPerSession)} B per further session): ` +
    (flat ? 'flat' : 'NOT flat') +
    (stoppedEarly ? ` (stopped at ${fmt(last.sessions)} of ${fmt(sessions)} sessions: over budget)` : ''),
);
const name = completeOnly ? 'join-memory-complete-only' : 'join-memory';
const file = writeResult({
  benchmark: name,
  workload:
    `${fmt(sessions)} synthetic sessions (${fmt(events)} events), ${completeOnly ? 'happy path only' : 'default session mix'}, ` +
    `one session start per ${spacingMs} ms of event time, ${fmt(users)} users, ${partitions} partitions, through ` +
    'SessionJoin in deliveries of one topic-partition (~500 records) with drain + checkpoints per delivery; ' +
    `heap used after a full GC every ${fmt(every)} sessions.`,
  reproduce: `npx tsx bench/join-memory.ts${quick ? ' --quick' : ''} --sessions ${sessions} --spacing ${spacingMs}${completeOnly ? ' --complete-only' : ''}`,
  quick,
  params: {
    sessions,
    reached: last.sessions,
    budgetS,
    every,
    spacingMs,
    partitions,
    users,
    windowMs: WINDOW_MS,
    graceMs: GRACE_MS,
    completeOnly,
  },
  figures: {
    [completeOnly ? 'join_memory_mb_after_1m_sessions_happy_path' : 'join_memory_mb_after_1m_sessions']:
      stoppedEarly || (!quick && sessions < 1_000_000) ? null : last.heap_used_mb,
    held_sessions: last.held_sessions,
    reached_sessions: last.sessions,
  },
  notes: [
    ...(stoppedEarly
      ? [
          `stopped at ${fmt(last.sessions)} sessions (feeding budget ${budgetS} s): heap ${last.heap_used_mb} MB, ` +
            `${fmt(last.held_sessions)} held, +${fmt(bytesPerSession)} B per further session`,
        ]
      : []),
    ...(!flat
      ? [`not flat: +${round(growth * 100, 1)} % from ${fmt(mid.sessions)} to ${fmt(last.sessions)} sessions`]
      : []),
  ],
  details: {
    baseline,
    curve: samples,
    growth_since_half: round(growth, 3),
    bytes_per_further_session: round(bytesPerSession),
    flat,
    examples,
    dead_letters: deadLetters,
  },
  machine: machine(),
});
console.log(`wrote ${file}`);
