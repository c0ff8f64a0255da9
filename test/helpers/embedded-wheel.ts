import { expect } from 'vitest';
import { DEFAULT_TOPICS, type SessionEvent, topicForEvent, type UserProfile } from '../../schemas/index.ts';
import { encodeJson } from '../../streams/codec/session-codec.ts';
import { createHashingEmbedder } from '../../streams/embeddings/hashing-embedder.ts';
import { EmbeddedLog } from '../../streams/log/embedded-log.ts';
import type { EventLog, LogMessage } from '../../streams/log/event-log.ts';
import { createMemoryClusterStore, createMemoryProfileStore } from '../../streams/stores/profile-store.ts';
import { DEFAULT_TOPOLOGY_CONFIG, type TopologyConfig, topicSpecs } from '../../streams/topology-config.ts';
import { type Role, startTopology } from '../../streams/wiring.ts';

export const TEST_CFG: TopologyConfig = {
  ...DEFAULT_TOPOLOGY_CONFIG,
  topics: DEFAULT_TOPICS,
  sessionPartitions: 3,
  trainingPartitions: 2,
  joinGroup: 'join',
  profileGroup: 'profiles',
  groupPrefix: 'test',
  idleLagMs: 0,
  maxEventBytes: 64 * 1024,
  maxBatchSize: 7,
  recluster: { k: 3, seed: 1, everyUpdates: 0 },
};

/** An embedded wheel whose processors can be started, killed and restarted over the same log and stores. */
export async function embeddedWheel(
  cfg: TopologyConfig = TEST_CFG,
  opts: {
    /** Delays each send by this many ms (the processors then kill with sends in flight). */
    sendDelayMs?: () => number;
  } = {},
) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = () => now;
  const log = new EmbeddedLog({ clock, idleIntervalMs: 2 });
  await log.ensureTopics(topicSpecs(cfg));
  const profiles = createMemoryProfileStore();
  const clusters = createMemoryClusterStore();
  const errors: unknown[] = [];
  let sendsInFlight = 0;
  const delay = opts.sendDelayMs;
  // The same log, but a send takes a while: the join's pipelined sends are still in flight when
  // the next batch is joined, and when a kill comes.
  const processorLog: EventLog = delay
    ? Object.assign(Object.create(log) as EventLog, {
        send: async (topic: string, messages: readonly LogMessage[]) => {
          sendsInFlight++;
          try {
            await new Promise((r) => setTimeout(r, delay()));
            await log.send(topic, messages);
          } finally {
            sendsInFlight--;
          }
        },
      })
    : log;
  const deps = {
    log: processorLog,
    profiles,
    clusters,
    embedder: createHashingEmbedder(64),
    clock,
    onError: (e: unknown) => errors.push(e),
  };
  const sessionTopics = [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection];
  return {
    log,
    deps,
    sendsInFlight: () => sendsInFlight,
    profiles,
    errors,
    setClock: (ms: number) => {
      now = ms;
    },
    append(events: readonly SessionEvent[]) {
      for (const e of events) {
        log.appendSync(topicForEvent(cfg.topics, e.type), [encodeJson(e.recommend_session_id, e)]);
      }
    },
    appendRaw(topic: string, key: string | null, value: Buffer) {
      log.appendSync(topic, [{ key, value }]);
    },
    /** The topology's join and profile fold (or the roles given) on this log and these stores. */
    start(roles: readonly Role[] = ['join', 'profiles']) {
      const topology = startTopology(deps, cfg, roles);
      return { topology, join: topology.join!, profiles: topology.sink('profiles')! };
    },
    /**
     * Resolves once both groups have committed everything there is (or throws after `ms`). With
     * `runClock`, the clock jumps a year per poll: idle ticks (which only come once a partition is
     * caught up) then close every session, as time running on after the end of the input would.
     */
    async quiet(ms = 20_000, runClock = false) {
      const until = Date.now() + ms;
      for (;;) {
        if (runClock) now += 365 * 24 * 3600_000;
        if (errors.length > 0) throw errors[0];
        const joinLag = log.lag(cfg.joinGroup, sessionTopics);
        const profileLag = log.lag(cfg.profileGroup, [cfg.topics.trainingExamples]);
        if (joinLag === 0 && profileLag === 0) return;
        if (Date.now() > until)
          throw new Error(`not quiet after ${ms} ms: join lag ${joinLag}, profile lag ${profileLag}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    /** Distinct H by event_id (id + revision), from the training-examples topic. */
    examplesById() {
      const m = new Map<string, unknown>();
      for (const r of log.read(cfg.topics.trainingExamples)) {
        const h = JSON.parse(r.value.toString()) as { event_id: string };
        const prev = m.get(h.event_id);
        if (prev !== undefined && JSON.stringify(prev) !== JSON.stringify(h)) {
          throw new Error(
            `two different H with id ${h.event_id}:\n${JSON.stringify(prev)}\n${JSON.stringify(h)}`,
          );
        }
        m.set(h.event_id, h);
      }
      return m;
    },
    deadLetters() {
      return log
        .read(cfg.topics.deadLetter)
        .map((r) => JSON.parse(r.value.toString()) as Record<string, unknown>);
    },
    profileSnapshot(): Map<string, UserProfile> {
      return profiles.snapshot();
    },
  };
}

/** A profile without its log positions (which differ between runs that replayed). */
export function comparableProfile(p: UserProfile) {
  const { applied_offsets: _o, version: _v, ...rest } = p;
  return rest;
}

/** Profiles equal but for log positions; running-mean vectors to 1e-9 (summation order may differ). */
export function expectProfileClose(actual: UserProfile, expected: UserProfile) {
  const a = comparableProfile(actual);
  const e = comparableProfile(expected);
  const strip = (p: typeof a) => ({
    ...p,
    embedding: p.embedding ? { n: p.embedding.n } : null,
    option_embeddings: Object.fromEntries(
      Object.entries(p.option_embeddings).map(([k, v]) => [k, { n: v.n }]),
    ),
  });
  expect(strip(a)).toEqual(strip(e));
  const vecs = (p: typeof a) =>
    [
      p.embedding?.vector ?? [],
      ...Object.keys(p.option_embeddings)
        .sort()
        .map((k) => p.option_embeddings[k]!.vector),
    ].flat();
  const va = vecs(a);
  const ve = vecs(e);
  expect(va.length).toBe(ve.length);
  for (let i = 0; i < va.length; i++) expect(Math.abs(va[i]! - ve[i]!)).toBeLessThan(1e-9);
}
