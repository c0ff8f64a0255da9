/**
 * `npm start`: the whole wheel in one process on embedded defaults — the event log, the session
 * join, the profile fold and re-clustering — driven by synthetic session traffic. Composition root.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_TOPICS, topicForEvent } from './schemas/index.ts';
import { syntheticTraffic } from './simulator/synthetic-sessions.ts';
import { encodeJson } from './streams/codec/session-codec.ts';
import { createHashingEmbedder } from './streams/embeddings/hashing-embedder.ts';
import { EmbeddedLog } from './streams/log/embedded-log.ts';
import {
  createMemoryClusterStore,
  createMemoryExampleStore,
  createMemoryProfileStore,
} from './streams/stores/profile-store.ts';
import {
  startJoinProcessor,
  startProfileProcessor,
  type TopologyConfig,
  topicSpecs,
} from './streams/topology.ts';

const USAGE = `usage: npm start -- [--sessions N] [--users N] [--seed S] [--exit]`;

function options() {
  try {
    const { values } = parseArgs({
      options: {
        sessions: { type: 'string', default: '1500' },
        users: { type: 'string', default: '60' },
        seed: { type: 'string', default: '42' },
        exit: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const num = (name: string, v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min)
        throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
      return n;
    };
    return {
      sessions: num('sessions', values.sessions, 1),
      users: num('users', values.users, 1),
      seed: num('seed', values.seed, 0),
      exit: values.exit,
    };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const opts = options();
const cfg: TopologyConfig = {
  topics: DEFAULT_TOPICS,
  sessionPartitions: 6,
  trainingPartitions: 6,
  joinGroup: 'sentencify-join',
  profileGroup: 'sentencify-profiles',
  windowMs: 30 * 60_000,
  graceMs: 10 * 60_000,
  idleLagMs: 0,
  maxEventBytes: 256 * 1024,
  maxBatchSize: 500,
  recluster: { k: 8, seed: opts.seed, everyUpdates: 0 },
};

// Simulated event time runs ahead of the wall clock: the clock the wheel sees is the traffic's.
const start = Date.parse('2026-01-05T09:00:00Z');
let simNow = start;
const log = new EmbeddedLog({ clock: () => simNow, idleIntervalMs: 20 });
await log.ensureTopics(topicSpecs(cfg));
const profiles = createMemoryProfileStore();
const clusters = createMemoryClusterStore();
const examples = createMemoryExampleStore();
const embedder = createHashingEmbedder(384);
const deps = {
  log,
  profiles,
  clusters,
  examples,
  embedder,
  clock: () => simNow,
  onError: (err: unknown) => {
    console.error('fatal:', err);
    process.exit(1);
  },
};
const join = startJoinProcessor(deps, cfg);
const fold = startProfileProcessor(deps, cfg);

const traffic = syntheticTraffic({
  sessions: opts.sessions,
  users: opts.users,
  seed: opts.seed,
  startMs: start,
});
console.log(
  `sentencify: embedded wheel — ${opts.sessions} synthetic sessions of ${opts.users} users (seed ${opts.seed}); embeddings: ${embedder.model} (offline)`,
);
const t0 = performance.now();
const chunk = Math.max(1, Math.ceil(traffic.events.length / 20));
for (let i = 0; i < traffic.events.length; i += chunk) {
  for (const e of traffic.events.slice(i, i + chunk)) {
    log.appendSync(topicForEvent(cfg.topics, e.type), [encodeJson(e.recommend_session_id, e)]);
    simNow = Math.max(simNow, Date.parse(e.ts));
  }
  const done = Math.min(traffic.events.length, i + chunk);
  process.stdout.write(`\r  events ${done}/${traffic.events.length}  examples ${join.stats.examples}   `);
  await new Promise((r) => setTimeout(r, 0));
}
// Let time run on past the last window and grace so every session closes.
simNow += cfg.windowMs * 3;
const sessionTopics = [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection];
while (
  log.lag(cfg.joinGroup, sessionTopics) > 0 ||
  log.lag(cfg.profileGroup, [cfg.topics.trainingExamples]) > 0
) {
  simNow += cfg.windowMs;
  await new Promise((r) => setTimeout(r, 20));
}
await fold.reclusterNow();
const secs = (performance.now() - t0) / 1000;
process.stdout.write('\n');

const hs = [...examples.snapshot().values()];
const byFunnel = new Map<string, number>();
for (const h of hs)
  byFunnel.set(`${h.funnel}/${h.consistency}`, (byFunnel.get(`${h.funnel}/${h.consistency}`) ?? 0) + 1);
console.log(
  `\n  ${traffic.events.length} events → ${join.stats.examples} training examples (all revisions), ${join.stats.deadLetters} dead letters in ${secs.toFixed(1)} s`,
);
console.log(`  dead letters by code: ${JSON.stringify(join.stats.deadLettersByCode)}`);
console.log('  latest revision per session, by funnel/consistency:');
for (const [k, n] of [...byFunnel].sort()) console.log(`    ${k.padEnd(12)} ${n}`);
const snapshot = profiles.snapshot();
console.log(`  ${snapshot.size} user profiles; clusters:`);
for (const c of await clusters.clusters()) {
  console.log(
    `    cluster ${c.cluster_id}: ${String(c.size).padStart(3)} users, favourite ${c.top_option ?? '-'}`,
  );
}
let agree = 0;
for (const s of new Map(traffic.sessions.map((s) => [s.user, s])).values()) {
  const p = snapshot.get(s.user);
  const top = p && Object.entries(p.options).sort((a, b) => b[1].selected - a[1].selected)[0]?.[0];
  if (top === `${s.favourite.category}:${s.favourite.intensity}`) agree++;
}
console.log(
  `  profiles whose most selected option is the user's planted favourite: ${agree}/${snapshot.size}`,
);

if (opts.exit) {
  await join.stop();
  await fold.stop();
  process.exit(0);
}
console.log('\n  the wheel keeps running on the embedded log; Ctrl-C to stop.');
process.on('SIGINT', async () => {
  await join.stop();
  await fold.stop();
  process.exit(0);
});
