/**
 * join-throughput — the session-join operator alone: pure, embedded, no I/O, one thread.
 *
 *   npx tsx bench/join-throughput.ts [--quick] [--sessions 200000] [--runs 5] [--spacing 50]
 *
 * Workload: synthetic A/B/C traffic (bench/lib/join-workload.ts: the simulator's default session
 * mix — 60 % complete, the rest spread over the nine edge cases, including late selections within
 * grace and stragglers beyond it — 10,000 users, one session start every 50 ms of event time, so
 * with the default 30 min window + 10 min grace + 30 min tombstone about 84k sessions are live at
 * steady state), decoded and placed on 6 partitions as Kafka's partitioner would. Every 9,000
 * records (in append order) are cut into consumer-like deliveries of one topic-partition each
 * (~500 records, like MAX_BATCH) and pushed through `joinBySession` exactly as the topology does:
 * records, drain, checkpoints() per delivery. Traffic is generated 10k sessions at a time with
 * the clock paused, so generation is excluded and not-yet-fed input is not kept alive. Each run
 * builds a fresh operator; one warm-up run is discarded. Figure: median events/s over the runs
 * (target ≥ 300,000). Also recorded: events/s per tenth of each run (does the cost per event grow
 * with the state?), a reference run of happy-path sessions only (bounded state; `--no-reference`
 * skips it) and, for context, the decode boundary (bytes → JSON → schema) on the same events, which
 * the Kafka path pays on top of the operator: `decode_events_per_s` is the fast path
 * (streams/codec/fast-decode.ts, zod for what it cannot vouch for), measured in alternation with
 * zod alone (the decoder before it) and JSON.parse alone (the floor under both).
 *
 * `join_vs_keyed_fold`: absolute events/s moved ×2.5 between runs on machines of this kind, so
 * the operator is also measured against the floor of keyed state on the same deliveries in the
 * same run, alternating with the join runs: every event into a Map by session id, a session
 * emitted (and its entry deleted) once A, B and C are all there; no time, no windows, no
 * checkpoints. Figure: median join events/s ÷ median fold events/s (target ≥ 0.5). Beside it, a
 * bound (details.keyed_fold_with_reads): the fold plus the reads every event-time join of these
 * events makes per event (its time parsed, its id and user checked against the session's), still
 * dropping a session once complete; join ÷ it is what holding sessions through window, grace and
 * tombstone, and building H, cost.
 */
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { DEFAULT_TOPICS } from '../schemas/index.ts';
import { decodeSessionRecord, decodeSessionRecordZod } from '../streams/codec/session-codec.ts';
import type { LogRecord } from '../streams/log/event-log.ts';
import { type JoinBatch, joinBySession } from '../streams/operators/join-by-session.ts';
import { parseIsoMs } from '../streams/state/iso-time.ts';
import type { SessionRecord } from '../streams/state/session-join.ts';
import { fmt, machine, median, round, writeResult } from './lib/common.ts';
import {
  GRACE_MS,
  joinWorkload,
  keyedFold,
  Placer,
  steadyTraffic,
  toDeliveries,
  WINDOW_MS,
} from './lib/join-workload.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    runs: { type: 'string' },
    chunk: { type: 'string', default: '9000' },
    spacing: { type: 'string', default: '50' },
    partitions: { type: 'string', default: '6' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const quick = args.quick!;
const sessions = Number(args.sessions ?? (quick ? 20_000 : 200_000));
const runs = Number(args.runs ?? (quick ? 3 : 5));
const chunk = Number(args.chunk);
const spacingMs = Number(args.spacing);
const partitions = Number(args.partitions);
const users = 10_000;
const inputTopics = [DEFAULT_TOPICS.recommend, DEFAULT_TOPICS.paraphrase, DEFAULT_TOPICS.selection];

interface RunStats {
  readonly ms: number;
  readonly events: number;
  readonly deliveries: number;
  readonly examples: number;
  readonly deadLetters: number;
  /** events/s per tenth of the run: shows whether the cost per event grows with the state. */
  readonly curve: number[];
}

function runOnce(completeShare?: number): RunStats {
  const input = new Subject<JoinBatch>();
  let examples = 0;
  let deadLetters = 0;
  input.pipe(joinBySession({ inputTopics, windowMs: WINDOW_MS, graceMs: GRACE_MS })).subscribe((r) => {
    examples += r.examples.length;
    deadLetters += r.deadLetters.length;
  });
  const placer = new Placer(partitions);
  let ms = 0;
  let events = 0;
  let deliveries = 0;
  const segments: { ms: number; events: number }[] = [];
  for (const chunkEvents of steadyTraffic({
    sessions,
    users,
    seed: 11,
    spacingMs,
    partitions,
    completeShare,
  })) {
    const batches = toDeliveries(
      chunkEvents.map((e) => placer.place(e)),
      chunk,
    );
    const t0 = performance.now();
    for (const records of batches) input.next({ records });
    const dt = performance.now() - t0;
    ms += dt;
    events += chunkEvents.length;
    deliveries += batches.length;
    segments.push({ ms: dt, events: chunkEvents.length });
  }
  // No complete(): that would close every session at once, which is not what is measured here.
  const curve: number[] = [];
  const per = Math.max(1, Math.ceil(segments.length / 10));
  for (let i = 0; i < segments.length; i += per) {
    const seg = segments.slice(i, i + per);
    const e = seg.reduce((a, x) => a + x.events, 0);
    const t = seg.reduce((a, x) => a + x.ms, 0);
    curve.push(round((e / t) * 1000));
  }
  return { ms, events, deliveries, examples, deadLetters, curve };
}

/** The same traffic and deliveries as `runOnce`, each delivery handed to `handle` on the clock. */
function timedDeliveries(
  completeShare: number | undefined,
  handle: (records: SessionRecord[]) => number,
): RunStats {
  const placer = new Placer(partitions);
  let examples = 0;
  let ms = 0;
  let events = 0;
  let deliveries = 0;
  for (const chunkEvents of steadyTraffic({
    sessions,
    users,
    seed: 11,
    spacingMs,
    partitions,
    completeShare,
  })) {
    const batches = toDeliveries(
      chunkEvents.map((e) => placer.place(e)),
      chunk,
    );
    const t0 = performance.now();
    for (const records of batches) examples += handle(records);
    ms += performance.now() - t0;
    events += chunkEvents.length;
    deliveries += batches.length;
  }
  return { ms, events, deliveries, examples, deadLetters: 0, curve: [] };
}

/** The floor of keyed state (`keyedFold`) on the same deliveries. */
function foldOnce(completeShare?: number): RunStats {
  return timedDeliveries(completeShare, keyedFold());
}

/**
 * A bound, not a baseline: the fold plus the reads any event-time join of these events must make
 * per event — its time parsed (`parseIsoMs`, as the join), its id checked against the session's
 * (duplicates) and its user against the session's owner — still with no windows, no time state,
 * and the session dropped the moment it is complete. What lies between this and the join is the
 * cost of holding sessions through window, grace and tombstone and of building H.
 */
function foldWithReadsOnce(completeShare?: number): RunStats {
  interface S {
    a: unknown;
    b: unknown;
    c: unknown;
    user: string;
    first: number;
    ids: string[];
  }
  const state = new Map<string, S>();
  let dropped = 0;
  const stats = timedDeliveries(completeShare, (records) => {
    const out: unknown[] = [];
    for (const r of records) {
      const ev = r.event;
      const id = ev.recommend_session_id;
      const ts = parseIsoMs(ev.ts);
      let s = state.get(id);
      if (s === undefined) {
        s = { a: null, b: null, c: null, user: ev.user_id, first: ts, ids: [] };
        state.set(id, s);
      } else if (s.user !== ev.user_id || s.ids.includes(ev.event_id)) {
        dropped++;
        continue;
      }
      s.ids.push(ev.event_id);
      if (ts < s.first) s.first = ts;
      if (ev.type === 'recommend') s.a = ev;
      else if (ev.type === 'paraphrase') s.b = ev;
      else s.c = ev;
      if (s.a !== null && s.b !== null && s.c !== null) {
        out.push({ id, first: s.first, a: s.a, b: s.b, c: s.c });
        state.delete(id);
      }
    }
    return out.length;
  });
  return { ...stats, deadLetters: dropped };
}

console.log(`join-throughput: ${fmt(sessions)} sessions per run, ${runs} runs + 1 warm-up`);
runOnce(); // warm-up: JIT, not measured
foldOnce();
foldWithReadsOnce();
const results: RunStats[] = [];
const folds: RunStats[] = [];
const readFolds: RunStats[] = [];
for (let i = 0; i < runs; i++) {
  const r = runOnce();
  results.push(r);
  const f = foldOnce();
  folds.push(f);
  const g = foldWithReadsOnce();
  readFolds.push(g);
  console.log(
    `  keyed fold ${i + 1}/${runs}: ${fmt((f.events / f.ms) * 1000)} events/s (${fmt(f.examples)} complete sessions); ` +
      `with the join's reads ${fmt((g.events / g.ms) * 1000)} events/s`,
  );
  console.log(
    `  run ${i + 1}/${runs}: ${fmt(r.events)} events in ${fmt(r.ms, 1)} ms = ${fmt((r.events / r.ms) * 1000)} events/s ` +
      `(${fmt(r.examples)} H, ${fmt(r.deadLetters)} dead letters, ${fmt(r.deliveries)} deliveries); ` +
      `per tenth: ${r.curve.map((x) => fmt(x / 1000)).join(' ')} k/s`,
  );
}
const rates = results.map((r) => (r.events / r.ms) * 1000);
const eventsPerS = median(rates);
const foldRates = folds.map((r) => (r.events / r.ms) * 1000);
const foldPerS = median(foldRates);
const joinVsFold = eventsPerS / foldPerS;
const readFoldRates = readFolds.map((r) => (r.events / r.ms) * 1000);
const readFoldPerS = median(readFoldRates);

// Reference: the same rate of happy-path sessions only (no late or straggling events), whose state
// stays bounded — the difference to the figure is what the edge cases' effect on state costs.
const reference: RunStats[] = [];
if (!args['no-reference']) {
  runOnce(1);
  for (let i = 0; i < Math.min(3, runs); i++) reference.push(runOnce(1));
}
const referenceRates = reference.map((r) => (r.events / r.ms) * 1000);
if (reference.length > 0) {
  console.log(
    `  reference, happy-path sessions only: median ${fmt(median(referenceRates))} events/s over ${reference.length} runs ` +
      `(per tenth of the last: ${reference[reference.length - 1]!.curve.map((x) => fmt(x / 1000)).join(' ')} k/s)`,
  );
}

// The decode boundary the Kafka path adds per record (bytes → JSON → schema → SessionRecord):
// the fast path, zod alone (before it) and JSON.parse alone, in alternation.
const sample = joinWorkload({ sessions: quick ? 10_000 : 30_000, users, seed: 12, spacingMs, partitions });
const raw: LogRecord[] = sample.map((r) => ({
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
  key: r.event.recommend_session_id,
  value: Buffer.from(JSON.stringify(r.event)),
  timestamp: 0,
}));
const decoders = {
  fast: (r: LogRecord) => decodeSessionRecord(r, DEFAULT_TOPICS),
  zod: (r: LogRecord) => decodeSessionRecordZod(r, DEFAULT_TOPICS),
  json: (r: LogRecord) => JSON.parse(r.value.toString('utf8')),
} as const;
const decodeRates: Record<keyof typeof decoders, number[]> = { fast: [], zod: [], json: [] };
let decodeDeadLetters = 0;
for (const d of Object.values(decoders)) for (const r of raw.slice(0, 5000)) d(r);
for (let i = 0; i < (quick ? 3 : 5); i++) {
  for (const [name, d] of Object.entries(decoders) as [keyof typeof decoders, (r: LogRecord) => unknown][]) {
    let dead = 0;
    const t = performance.now();
    for (const r of raw) if ((d(r) as { code?: string }).code !== undefined) dead++;
    decodeRates[name].push((raw.length / (performance.now() - t)) * 1000);
    if (name === 'fast') decodeDeadLetters = dead;
  }
}
const decodePerS = median(decodeRates.fast);
const decodeZodPerS = median(decodeRates.zod);
const jsonPerS = median(decodeRates.json);
console.log(
  `join-throughput: median ${fmt(eventsPerS)} events/s over ${runs} runs (target ≥ 300,000); ` +
    `keyed fold ${fmt(foldPerS)} events/s, join ÷ fold = ${round(joinVsFold, 3)} (target ≥ 0.5); ` +
    `fold with the join's reads ${fmt(readFoldPerS)} events/s (÷ fold ${round(readFoldPerS / foldPerS, 3)}, ` +
    `join ÷ it ${round(eventsPerS / readFoldPerS, 3)}); ` +
    `decode boundary ${fmt(decodePerS)} events/s (zod alone ${fmt(decodeZodPerS)}, ×${round(decodePerS / decodeZodPerS, 2)}; ` +
    `JSON.parse alone ${fmt(jsonPerS)})`,
);

const events = results[0]?.events ?? 0;
const file = writeResult({
  benchmark: 'join-throughput',
  workload:
    `${fmt(sessions)} synthetic sessions per run (${fmt(events)} A/B/C events), default session mix, ` +
    `${fmt(users)} users, one session start per ${spacingMs} ms of event time, ${partitions} partitions, ` +
    `deliveries of one topic-partition each (~${Math.round(events / (results[0]?.deliveries ?? 1))} records) ` +
    'through joinBySession with drain + checkpoints per delivery; decoded records, no I/O, one thread; ' +
    'generation excluded from the clock.',
  reproduce: `npx tsx bench/join-throughput.ts${quick ? ' --quick' : ''} --sessions ${sessions} --runs ${runs}`,
  quick,
  params: {
    sessions,
    events,
    runs,
    chunk,
    spacingMs,
    partitions,
    users,
    windowMs: WINDOW_MS,
    graceMs: GRACE_MS,
  },
  figures: {
    join_events_per_s: round(eventsPerS),
    join_vs_keyed_fold: round(joinVsFold, 3),
    decode_events_per_s: round(decodePerS),
  },
  details: {
    runs: results.map((r, i) => ({ ...r, ms: round(r.ms, 1), events_per_s: round(rates[i]!) })),
    reference_complete_only: {
      events_per_s_median: reference.length > 0 ? round(median(referenceRates)) : null,
      runs: reference.map((r, i) => ({ ...r, ms: round(r.ms, 1), events_per_s: round(referenceRates[i]!) })),
    },
    keyed_fold: {
      events_per_s_median: round(foldPerS),
      runs: folds.map((r, i) => ({
        ms: round(r.ms, 1),
        events_per_s: round(foldRates[i]!),
        complete: r.examples,
      })),
      pair_ratios: rates.map((j, i) => round(j / foldRates[i]!, 3)),
    },
    keyed_fold_with_reads: {
      events_per_s_median: round(readFoldPerS),
      /** A bound on join_vs_keyed_fold from the reads alone (see foldWithReadsOnce). */
      vs_keyed_fold: round(readFoldPerS / foldPerS, 3),
      join_vs_it: round(eventsPerS / readFoldPerS, 3),
      runs: readFolds.map((r, i) => ({
        ms: round(r.ms, 1),
        events_per_s: round(readFoldRates[i]!),
        complete: r.examples,
        dropped: r.deadLetters,
      })),
    },
    decode_boundary_events_per_s: round(decodePerS),
    decode_zod_events_per_s: round(decodeZodPerS),
    decode_json_parse_events_per_s: round(jsonPerS),
    decode_speedup: round(decodePerS / decodeZodPerS, 2),
    decode_runs: Object.fromEntries(Object.entries(decodeRates).map(([k, v]) => [k, v.map((x) => round(x))])),
    decode_sample_events: raw.length,
    decode_sample_dead_letters: decodeDeadLetters,
    decode_mean_bytes: round(raw.reduce((a, r) => a + r.value.length, 0) / raw.length),
  },
  machine: machine(),
});
console.log(`wrote ${file}`);
