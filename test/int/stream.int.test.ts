import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mulberry32 } from '../../common/random.ts';
import type { SessionEvent } from '../../schemas/index.ts';
import { syntheticTraffic } from '../fixtures/synthetic-sessions.ts';
import { TEST_CFG } from '../helpers/embedded-wheel.ts';
import {
  asRecords,
  eventually,
  expectSameOutcome,
  flushEvents,
  kafkaClient,
  namespace,
  produce,
  type RawRecord,
  ROOT,
  readProfiles,
  readTopic,
  reference,
  type StreamProcess,
  spawnStream,
} from './stream-harness.ts';

const svc = inject('services');
const START = Date.parse('2030-01-01T00:00:00Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.ok)('stream processor on Kafka and Redis', () => {
  let kafka: Kafka;
  const running: StreamProcess[] = [];
  const start = (env: Record<string, string>) => {
    const p = spawnStream(env);
    running.push(p);
    return p;
  };
  beforeAll(() => {
    kafka = kafkaClient(svc);
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
  });

  const traffic = (sessions: number, seed: number) => {
    const t = syntheticTraffic({ sessions, users: 60, seed, startMs: START, completeShare: 0.5 });
    return [...t.events, ...flushEvents(TEST_CFG.sessionPartitions)];
  };

  it('joins 1,000 interleaved sessions into exactly the expected H and profiles', async () => {
    const events = traffic(1000, 21);
    const ref = await reference(events);
    expect(ref.examples.size).toBeGreaterThan(900);
    const n = namespace(svc);
    const p = start(n.env);
    await produce(kafka, n.topics, events);
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref));
    expect(p.proc.exitCode).toBeNull();
    // SIGTERM: drain, commit, close, exit 0
    expect(await p.kill('SIGTERM')).toBe(0);
    expect(p.output.join('')).toContain('"msg":"stopped"');
  });

  it('survives kill -9 at random moments while events flow: nothing lost, nothing doubled', async () => {
    const events = traffic(600, 22);
    const ref = await reference(events);
    const n = namespace(svc);
    const rnd = mulberry32(7);
    let p = start(n.env);
    let produced = 0;
    let kills = 0;
    const producing = (async () => {
      while (produced < events.length) {
        const chunk = events.slice(produced, produced + 40 + Math.floor(rnd() * 80));
        await produce(kafka, n.topics, chunk);
        produced += chunk.length;
        await sleep(200);
      }
    })();
    while (kills < 4) {
      await sleep(1500 + Math.floor(rnd() * 3000));
      await p.kill('SIGKILL');
      kills++;
      p = start(n.env);
    }
    await producing;
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 120_000);
    expect(kills).toBe(4);
  });

  it('shares partitions between two instances and hands them over when one stops', async () => {
    const events = traffic(500, 23);
    const ref = await reference(events);
    const n = namespace(svc);
    const a = start(n.env);
    const b = start(n.env);
    // Both in the join group, with partitions, before anything is produced: otherwise the first one
    // up may read (and after the rebalance re-read) most of the first half on its own.
    await eventually(
      async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const { groups } = await admin.describeGroups([n.env.JOIN_GROUP!]);
          expect(groups[0]!.state).toBe('Stable');
          expect(groups[0]!.members.length).toBe(2);
        } finally {
          await admin.disconnect();
        }
      },
      60_000,
      250,
    );
    const half = Math.floor(events.length / 2);
    await produce(kafka, n.topics, events.slice(0, half));
    await sleep(4000);
    // both took part: each read some A/B/C records
    expect(await a.kill('SIGTERM')).toBe(0);
    await produce(kafka, n.topics, events.slice(half));
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 120_000);
    expect(b.proc.exitCode).toBeNull();
    const stoppedA = a.output
      .join('')
      .split('\n')
      .find((l) => l.includes('"msg":"stopped"'));
    expect(stoppedA).toBeDefined();
    const aRecords = (JSON.parse(stoppedA!) as { join: { records: number } }).join.records;
    expect(aRecords).toBeGreaterThan(0);
    expect(aRecords).toBeLessThan(half);
  });

  it('dead-letters every kind of bad input with its reason while good events keep flowing', async () => {
    const n = namespace(svc);
    start(n.env);
    const good = traffic(60, 24);
    const a = good.find((e) => e.type === 'recommend')!;
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const bad: (RawRecord & { code: string })[] = [
      { type: 'recommend', key: 'x1', value: Buffer.from('{"type":"recommend",'), code: 'malformed_json' },
      {
        type: 'recommend',
        key: 'x2',
        value: json({ ...a, event_id: 'bad-1', recommend_session_id: 'x2', alpha: 'high' }),
        code: 'schema_invalid',
      },
      {
        type: 'selection',
        key: 'x3',
        value: json({ ...a, event_id: 'bad-2', recommend_session_id: 'x3' }),
        code: 'schema_invalid',
      },
      { type: 'recommend', key: 'x4', value: Buffer.alloc(300 * 1024, 120), code: 'oversized' },
      {
        type: 'recommend',
        key: 'other-key',
        value: json({ ...a, event_id: 'bad-3', recommend_session_id: 'x5' }),
        code: 'wrong_key',
      },
    ];
    const straggler: SessionEvent = {
      ...a,
      event_id: 'late-1',
      recommend_session_id: 'late-session',
      ts: new Date(START - 3600_000).toISOString(),
    };
    // Good traffic, the bad records in the middle of it, and a straggler that is far too late.
    const half = Math.floor(good.length / 2);
    const records = [
      ...asRecords(good.slice(0, half)),
      ...bad,
      ...asRecords(good.slice(half, -3 * TEST_CFG.sessionPartitions)),
      ...asRecords([straggler]),
      ...asRecords(good.slice(-3 * TEST_CFG.sessionPartitions)),
    ];
    const ref = await reference(records);
    await produce(kafka, n.topics, records);
    await eventually(async () => {
      const dead = (await readTopic(kafka, n.topics.deadLetter, 1000)) as {
        code: string;
        reason: string;
        raw?: string;
        dead_lettered_from: string;
      }[];
      const codes = dead.map((d) => d.code).sort();
      // the same dead letters as the embedded reference: the bad records, the straggler, and the
      // synthetic traffic's own selections beyond grace
      expect(codes).toEqual(ref.deadLetterCodes);
      for (const code of [...bad.map((b) => b.code), 'too_late']) expect(codes).toContain(code);
      for (const d of dead) {
        expect(d.reason.length).toBeGreaterThan(5);
        expect(d.dead_lettered_from).toMatch(new RegExp(`^${n.ns}\\.[abc]/\\d+@\\d+$`));
      }
      expect(dead.find((d) => d.code === 'malformed_json')!.raw).toBe('{"type":"recommend",');
    });
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref));
  });

  it.skipIf(svc.source !== '.services.env')('recovers from a broker restart without exiting', async () => {
    const events = traffic(300, 25);
    const ref = await reference(events);
    const n = namespace(svc);
    const p = start(n.env);
    const third = Math.floor(events.length / 3);
    await produce(kafka, n.topics, events.slice(0, third));
    await sleep(2000);
    execFileSync('bash', [join(ROOT, 'scripts/services/restart-kafka.sh')], { stdio: 'ignore' });
    await produce(kafka, n.topics, events.slice(third, 2 * third));
    execFileSync('bash', [join(ROOT, 'scripts/services/restart-kafka.sh'), '--kill'], { stdio: 'ignore' });
    await produce(kafka, n.topics, events.slice(2 * third));
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 150_000);
    expect(p.proc.exitCode).toBeNull();
  });

  it('serves /metrics (prom-client) with the join, dead-letter and per-sink series, and /ready with each sink', async () => {
    const n = namespace(svc);
    const port = 19_400 + Math.floor(Math.random() * 500);
    const p = start({ ...n.env, HEALTH_PORT: String(port) });
    const events = traffic(50, 5);
    await produce(kafka, n.topics, events);
    const ref = await reference(events);
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref));
    // The join commits on an interval and when caught up: its commit positions follow shortly.
    await eventually(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).toMatch(/^sentencify_join_records_total [1-9]\d*$/m);
        expect(text).toMatch(/^sentencify_join_examples_total [1-9]\d*$/m);
        expect(text).toMatch(/^sentencify_dead_letters_total\{code="too_late"\} 0$/m);
        expect(text).toMatch(/^sentencify_sink_lag_records\{sink="profiles"\} 0$/m);
        expect(text).toMatch(/^sentencify_sink_records_total\{sink="profiles"\} [1-9]\d*$/m);
        expect(text).toMatch(/^sentencify_sink_apply_duration_ms_count\{sink="profiles"\} [1-9]\d*$/m);
        expect(text).toMatch(
          /^sentencify_commit_offset\{group="[^"]+-join",partition="\d",topic="[^"]+\.a"\} \d+$/m,
        );
      },
      15_000,
      250,
    );
    const ready = (await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({ ready: true, sinks: { profiles: { status: 'running', lag: 0 } } });
    await p.kill('SIGTERM');
  });

  it('joins and profiles the events of an outside producer that copies schemas/examples', async () => {
    const n = namespace(svc);
    start(n.env);
    const ex = (f: string) =>
      JSON.parse(readFileSync(join(ROOT, 'schemas/examples', f), 'utf8')) as Record<string, unknown>;
    const session = `outside-${Date.now()}`;
    // A plain kafkajs producer, as another team would write it from the README: no project code.
    const producer = kafka.producer();
    await producer.connect();
    for (const [topic, file] of [
      [n.topics.recommend, 'a-recommend.json'],
      [n.topics.paraphrase, 'b-paraphrase.json'],
      [n.topics.selection, 'c-selection.json'],
    ] as const) {
      const value = { ...ex(file), event_id: `${file}-${session}`, recommend_session_id: session };
      await producer.send({ topic, messages: [{ key: session, value: JSON.stringify(value) }] });
      await sleep(300);
    }
    await producer.disconnect();
    const user = ex('a-recommend.json').user_id as string;
    await eventually(async () => {
      const hs = (await readTopic(kafka, n.topics.trainingExamples, 1000)) as {
        recommend_session_id: string;
        funnel: string;
        outcome: string;
      }[];
      const mine = hs.filter((h) => h.recommend_session_id === session);
      expect(mine.map((h) => [h.funnel, h.outcome])).toEqual([['ABC', 'accepted']]);
      const profiles = await readProfiles(svc, n.redisPrefix);
      expect(profiles.get(user)?.options).toEqual({ 'report:strong': { selected: 1, accepted: 1 } });
    }, 60_000);
  });
});
