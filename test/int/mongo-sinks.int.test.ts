import { execFileSync } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SessionEvent, TopicNames, TrainingExample } from '../../schemas/index.ts';
import { mkA, mkB, mkC } from '../helpers/events.ts';
import { storeUrl } from './stores.ts';
import {
  eventually,
  expectSameOutcome,
  kafkaClient,
  namespace,
  type Outcome,
  produce,
  produceWhileKilling,
  readProfiles,
  readTopic,
  reference,
  type StreamProcess,
  sessionTraffic,
  spawnStream,
  withStoreStopped,
} from './stream-harness.ts';

const svc = inject('services');
const mongoUrl = svc.ok ? storeUrl(svc, 'MONGODB_URL') : null;
const START = Date.parse('2030-03-01T00:00:00Z');
const _sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.ok || !mongoUrl)(
  'MongoDB sinks of the stream processor (archive, training_examples)',
  () => {
    let kafka: Kafka;
    let client: MongoClient;
    const running: StreamProcess[] = [];
    const dbs: string[] = [];
    const start = (env: Record<string, string>) => {
      const p = spawnStream(env);
      running.push(p);
      return p;
    };
    beforeAll(async () => {
      kafka = kafkaClient(svc);
      client = new MongoClient(mongoUrl!, { serverSelectionTimeoutMS: 5_000 });
      await client.connect();
    });
    afterAll(async () => {
      await Promise.all(running.map((p) => p.kill('SIGKILL')));
      for (const db of dbs)
        await client
          .db(db)
          .dropDatabase()
          .catch(() => {});
      await client.close();
    });

    /** A namespace with a database of its own. */
    const mongoNamespace = () => {
      const n = namespace(svc);
      const db = `it_${n.ns.replace(/[^A-Za-z0-9]/g, '_')}`;
      dbs.push(db);
      return { ...n, db, env: { ...n.env, MONGODB_URL: mongoUrl!, MONGODB_DB: db } };
    };

    const traffic = (sessions: number, seed: number) => sessionTraffic(sessions, seed, START);

    /** Every event archived exactly once, every dead letter, and the newest revision of each session. */
    async function expectMongoHolds(
      db: string,
      topics: TopicNames,
      events: readonly SessionEvent[],
      ref: Outcome,
    ) {
      const d = client.db(db);
      const archived = await d
        .collection<{ _id: string }>('events')
        .find({}, { projection: { _id: 1 } })
        .toArray();
      expect(archived.length).toBe(new Set(events.map((e) => e.event_id)).size);
      expect(new Set(archived.map((x) => x._id))).toEqual(new Set(events.map((e) => e.event_id)));
      // Every dead letter on the topic archived once (by its code and the record it is about).
      const letters = (await readTopic(kafka, topics.deadLetter, 1000)) as {
        code: string;
        sink?: string;
        topic: string;
        partition: number;
        offset: number;
      }[];
      const want = new Set(
        letters.map((l) => `${l.code}:${l.sink ? `${l.sink}:` : ''}${l.topic}/${l.partition}@${l.offset}`),
      );
      const dead = await d
        .collection<{ _id: string }>('dead_letters')
        .find({}, { projection: { _id: 1 } })
        .toArray();
      expect(dead.length).toBe(want.size);
      expect(new Set(dead.map((x) => x._id))).toEqual(want);
      expect(want.size).toBeGreaterThanOrEqual(ref.deadLetterCodes.length);
      const latest = new Map<string, number>();
      for (const h of ref.examples.values() as Iterable<TrainingExample>) {
        latest.set(h.recommend_session_id, Math.max(latest.get(h.recommend_session_id) ?? 0, h.revision));
      }
      const stored = await d
        .collection<{ _id: string; revision: number }>('training_examples')
        .find({ _id: { $not: /^flush-/ } }, { projection: { _id: 1, revision: 1 } })
        .toArray();
      expect(new Map(stored.map((x) => [x._id, x.revision]))).toEqual(latest);
    }

    it('1,000 interleaved sessions: every event archived once, the latest revision of every session, also after kill -9 ×3', async () => {
      const events = traffic(1000, 31);
      const ref = await reference(events);
      expect([...ref.examples.values()].some((h) => (h as TrainingExample).revision > 1)).toBe(true);
      const n = mongoNamespace();
      const p = await produceWhileKilling({
        kafka,
        topics: n.topics,
        events,
        start: () => start(n.env),
        kills: 3,
        seed: 5,
      });
      await eventually(() => expectMongoHolds(n.db, n.topics, events, ref), 150_000);
      await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 60_000);
      expect(p.proc.exitCode).toBeNull();
    });

    // Stopping the store needs the local services (scripts/services), not containers.
    it.skipIf(svc.source !== '.services.env')(
      'MongoDB away for 10 s: profiles in Redis stay current, the archive catches up with nothing lost or doubled',
      async () => {
        const events = traffic(300, 32);
        const ref = await reference(events);
        const n = mongoNamespace();
        const p = start(n.env);
        await produce(kafka, n.topics, events.slice(0, 100));
        // Producers retry: the traffic repeats some events, and the archive keeps each once.
        const firstIds = new Set(events.slice(0, 100).map((e) => e.event_id)).size;
        await eventually(async () =>
          expect(await client.db(n.db).collection('events').countDocuments()).toBe(firstIds),
        );
        await withStoreStopped('mongo', 10_000, async () => {
          const downAt = Date.now();
          await produce(kafka, n.topics, events.slice(100));
          // The profile fold does not wait for MongoDB: G reaches its final state while it is away.
          await eventually(
            async () => {
              const profiles = await readProfiles(svc, n.redisPrefix);
              expect([...profiles.keys()].sort()).toEqual([...ref.profiles.keys()].sort());
            },
            8_000,
            250,
          );
          expect(Date.now() - downAt).toBeLessThan(10_000);
        });
        await client.close();
        client = new MongoClient(mongoUrl!, { serverSelectionTimeoutMS: 5_000 });
        await client.connect();
        await eventually(() => expectMongoHolds(n.db, n.topics, events, ref), 120_000);
        await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 30_000);
        expect(p.proc.exitCode).toBeNull();
      },
    );

    it('events an outside client (kcat) produces reach the archive and training_examples', async () => {
      const n = mongoNamespace();
      start(n.env);
      const session = `kcat-${Date.now()}`;
      const ours = [mkA(session, 'kcat-user', 0), mkB(session, 'kcat-user', 1), mkC(session, 'kcat-user', 2)];
      const [host, port] = svc.kafkaBrokers.split(',')[0]!.split(':');
      for (const e of ours) {
        const topic = {
          recommend: n.topics.recommend,
          paraphrase: n.topics.paraphrase,
          selection: n.topics.selection,
        }[e.type];
        // kcat -K: reads key<TAB>value lines from stdin.
        execFileSync('kcat', ['-P', '-b', `${host}:${port}`, '-t', topic, '-K', '\t'], {
          input: `${session}\t${JSON.stringify(e)}\n`,
        });
      }
      await eventually(async () => {
        const d = client.db(n.db);
        expect(await d.collection('events').countDocuments({ recommend_session_id: session })).toBe(3);
        const h = await d
          .collection<{ _id: string; revision: number }>('training_examples')
          .findOne({ _id: session });
        expect(h?.revision).toBe(1);
      }, 60_000);
    });
  },
);
