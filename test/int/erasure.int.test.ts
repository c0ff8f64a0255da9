import { Client as EsClient } from '@elastic/elasticsearch';
import { QdrantClient } from '@qdrant/js-client-rest';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SessionEvent, UserErasure } from '../../schemas/index.ts';
import { createRedisDocStore } from '../../streams/stores/doc-store.ts';
import { userHash } from '../../streams/stores/erasure-registry.ts';
import { storeUrl } from './stores.ts';
import {
  eventually,
  kafkaClient,
  namespace,
  produce,
  type StreamProcess,
  sessionTraffic,
  spawnStream,
} from './stream-harness.ts';

const svc = inject('services');
const mongoUrl = svc.ok ? storeUrl(svc, 'MONGODB_URL') : null;
const esUrl = svc.ok ? storeUrl(svc, 'ES_URL') : null;
const qdrantUrl = svc.ok ? storeUrl(svc, 'QDRANT_URL') : null;
const START = Date.parse('2030-03-01T00:00:00Z');
// The synthetic traffic is dated 2030 and closed by flush events in 2031: the erasure comes after.
const ERASED_AT = '2031-06-01T00:00:00.000Z';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.ok || !mongoUrl || !esUrl || !qdrantUrl)(
  'erasure on the real services (Kafka, Redis, MongoDB peer, Elasticsearch, Qdrant peer)',
  () => {
    let kafka: Kafka;
    let mongo: MongoClient;
    let redis: Redis;
    let es: EsClient;
    let qdrant: QdrantClient;
    const running: StreamProcess[] = [];
    const n = namespace(svc);
    const db = `it_${n.ns.replace(/[^A-Za-z0-9]/g, '_')}`;
    const prefix = `sentencify-golden-${n.ns}-`;
    const collection = `${n.ns.replace(/[^A-Za-z0-9]/g, '_')}_contexts`;
    const env = {
      ...n.env,
      MONGODB_URL: mongoUrl!,
      MONGODB_DB: db,
      ES_URL: esUrl!,
      ES_INDEX_PREFIX: prefix,
      QDRANT_URL: qdrantUrl!,
      QDRANT_COLLECTION: collection,
      RECLUSTER_INTERVAL_MS: '2000',
      RECLUSTER_K: '4',
    };
    const start = () => {
      const p = spawnStream(env);
      running.push(p);
      return p;
    };

    beforeAll(async () => {
      kafka = kafkaClient(svc);
      mongo = new MongoClient(mongoUrl!, { serverSelectionTimeoutMS: 5_000 });
      await mongo.connect();
      redis = new Redis(svc.redisUrl);
      es = new EsClient({ node: esUrl! });
      qdrant = new QdrantClient({ url: qdrantUrl!, checkCompatibility: false });
    });
    afterAll(async () => {
      await Promise.all(running.map((p) => p.kill('SIGKILL')));
      if (mongo) {
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => {});
        await mongo.close();
      }
      if (redis) {
        const keys = await redis.keys(`${n.redisPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      if (es) {
        await es.indices
          .delete({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true })
          .catch(() => {});
        await es.indices
          .deleteIndexTemplate({ name: prefix.replace(/[-_.]+$/, '') }, { ignore: [404] })
          .catch(() => {});
        await es.close();
      }
      await qdrant?.deleteCollection(collection).catch(() => {});
    });

    /** What every store holds of a user, counted. */
    async function holdings(user: string) {
      const d = mongo.db(db);
      await es.indices.refresh({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true });
      const golden = await es.count({
        index: `${prefix}*`,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { term: { user_id: user } },
      });
      const points = await qdrant
        .count(collection, { exact: true, filter: { must: [{ key: 'user_id', match: { value: user } }] } })
        .then((r) => r.count)
        .catch(() => 0);
      return {
        profile: await redis.exists(`${n.redisPrefix}user_profile:${user}`),
        profileIndexed: await redis.sismember(`${n.redisPrefix}user_profiles`, user),
        cluster: (await redis.hexists(`${n.redisPrefix}user_cluster`, user)) as number,
        events: await d.collection('events').countDocuments({ user_id: user }),
        deadLetters: await d.collection('dead_letters').countDocuments({ 'event.user_id': user }),
        examples: await d.collection('training_examples').countDocuments({ user_id: user }),
        golden: golden.count,
        points,
        // The choices the API's /paraphrase filed under the user (streams/stores/doc-store.ts).
        docChoices: await redis.hlen(`${n.redisPrefix}doc_choices:${user}`),
      };
    }
    const NOTHING = {
      profile: 0,
      profileIndexed: 0,
      cluster: 0,
      events: 0,
      deadLetters: 0,
      examples: 0,
      golden: 0,
      points: 0,
      docChoices: 0,
    };

    /** Every group of the namespace has committed up to the end of its topics. */
    async function caughtUp(groups: readonly { groupId: string; topics: readonly string[] }[]) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        for (const g of groups)
          for (const topic of g.topics) {
            const ends = await admin.fetchTopicOffsets(topic);
            const [committed] = await admin.fetchOffsets({ groupId: g.groupId, topics: [topic] });
            for (const e of ends) {
              const c = committed!.partitions.find((p) => p.partition === e.partition);
              expect(Number(c?.offset ?? -1), `${g.groupId} ${topic}/${e.partition}`).toBeGreaterThanOrEqual(
                Number(e.high),
              );
            }
          }
      } finally {
        await admin.disconnect();
      }
    }

    it('a user erased through <ns>.erasure is gone from every store, also after the processor replays from the beginning', async () => {
      const events: SessionEvent[] = sessionTraffic(240, 7, START);
      let p = start();
      // The processor creates the topics at start-up.
      await eventually(async () => expect(p.output.join('')).toContain('"msg":"running"'), 60_000, 200);
      await produce(kafka, n.topics, events);

      // The stores fill; the victim is a user with a context point in Qdrant (only high-consistency
      // sessions become points), so every store holds something of them.
      let victim = '';
      await eventually(async () => {
        const page = await qdrant.scroll(collection, { limit: 1000, with_payload: true });
        const users = page.points
          .map((x) => (x.payload as { user_id?: string }).user_id)
          .filter((u): u is string => typeof u === 'string' && !u.startsWith('flush'));
        expect(users.length).toBeGreaterThan(0);
        victim = users[0]!;
        const h = await holdings(victim);
        expect(h.profile).toBe(1);
        expect(h.cluster).toBe(1);
        expect(h.events).toBeGreaterThan(0);
        expect(h.examples).toBeGreaterThan(0);
        expect(h.golden).toBeGreaterThan(0);
        expect(h.points).toBeGreaterThan(0);
      }, 180_000);
      const others = [...new Set(events.map((e) => e.user_id))].filter(
        (u) => u !== victim && !u.startsWith('flush'),
      );
      // Document history as the API records it (same Redis, same prefix): two choices of the victim
      // in a document another user writes in too, one in a document of their own.
      const docs = createRedisDocStore(redis, { prefix: n.redisPrefix });
      await docs.recordChoice('doc-shared', 'rs-doc-1', 'email/moderate', victim);
      await docs.recordChoice('doc-shared', 'rs-doc-2', 'email/moderate', others[0]!);
      await docs.recordChoice('doc-shared', 'rs-doc-3', 'thesis/strong', victim);
      await docs.recordChoice('doc-own', 'rs-doc-4', 'thesis/strong', victim);
      const before = await holdings(victim);
      expect(before.docChoices).toBe(3);

      const erasure: UserErasure = {
        type: 'user_erasure',
        event_id: 'erasure-it-1',
        schema_version: 1,
        ts: ERASED_AT,
        user_id: victim,
        requested_by: 'it-admin',
      };
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: n.topics.erasure,
        acks: -1,
        messages: [{ key: victim, value: JSON.stringify(erasure) }],
      });
      await producer.disconnect();

      await eventually(async () => expect(await holdings(victim)).toEqual(NOTHING), 120_000);
      // Other users are still there.
      const rest = await Promise.all(others.slice(0, 10).map(holdings));
      expect(rest.filter((h) => h.profile === 1).length).toBeGreaterThan(5);
      expect(rest.reduce((s, h) => s + h.events, 0)).toBeGreaterThan(0);
      expect(rest.reduce((s, h) => s + h.golden, 0)).toBeGreaterThan(0);

      // The audit: who, when, what went where, and no user id.
      const audit = await eventually(async () => {
        const a = await mongo
          .db(db)
          .collection('erasure_audit')
          .findOne({ _id: 'erasure-it-1' as never });
        expect(a).not.toBeNull();
      }, 30_000).then(() =>
        mongo
          .db(db)
          .collection('erasure_audit')
          .findOne({ _id: 'erasure-it-1' as never }),
      );
      expect(audit).toMatchObject({ user_hash: userHash(n.ns, victim), requested_by: 'it-admin' });
      const removed = audit!.removed as Record<string, number>;
      expect(removed.profiles).toBe(1);
      expect(removed.clusters).toBe(1);
      // At least what was there when we looked (a store may have taken more of the user since).
      expect(removed['archive.events']).toBeGreaterThanOrEqual(before.events);
      expect(removed.training_examples).toBeGreaterThanOrEqual(before.examples);
      expect(removed.golden).toBeGreaterThanOrEqual(before.golden);
      expect(removed.index).toBeGreaterThanOrEqual(before.points);
      expect(removed.docs).toBe(3);
      // The other writer's choice stays in the shared document; the victim's own document is empty.
      expect(await docs.history('doc-shared')).toEqual({ 'email/moderate': 1 });
      expect(await docs.history('doc-own')).toEqual({});
      expect(JSON.stringify(audit)).not.toContain(victim);
      console.log('erasure audit: removed', JSON.stringify(removed), 'before', JSON.stringify(before));
      expect(await redis.hlen(`${n.redisPrefix}erased_users`)).toBe(1);
      expect(await redis.hexists(`${n.redisPrefix}erased_users`, userHash(n.ns, victim))).toBe(1);

      // Replay: stop the processor, move the join's and every sink's group back to the beginning
      // (older than any commit), start again. The raw A/B/C and H of the victim are still on Kafka.
      await p.kill('SIGKILL');
      const replayed = [
        { groupId: `${n.ns}-join`, topics: [n.topics.recommend, n.topics.paraphrase, n.topics.selection] },
        { groupId: `${n.ns}-profiles`, topics: [n.topics.trainingExamples] },
        { groupId: `${n.ns}-training-examples`, topics: [n.topics.trainingExamples] },
        { groupId: `${n.ns}-golden`, topics: [n.topics.trainingExamples] },
        { groupId: `${n.ns}-index`, topics: [n.topics.trainingExamples] },
        {
          groupId: `${n.ns}-archive`,
          topics: [n.topics.recommend, n.topics.paraphrase, n.topics.selection, n.topics.deadLetter],
        },
      ];
      const admin = kafka.admin();
      await admin.connect();
      try {
        // Refused while the killed member is still in the group (until its session times out).
        for (const g of replayed)
          for (const topic of g.topics)
            await eventually(
              () => admin.resetOffsets({ groupId: g.groupId, topic, earliest: true }),
              60_000,
              1000,
            );
      } finally {
        await admin.disconnect();
      }
      p = start();
      // The join commits behind its live sessions (REPLAY_MS), never at the end: what shows it is
      // done replaying is that H stops growing; the sinks then commit to the end of their topics.
      let hEnd = -1;
      await eventually(
        async () => {
          const admin2 = kafka.admin();
          await admin2.connect();
          const end = (await admin2.fetchTopicOffsets(n.topics.trainingExamples)).reduce(
            (sum, o) => sum + Number(o.high),
            0,
          );
          await admin2.disconnect();
          const grew = end !== hEnd;
          hEnd = end;
          expect(grew, 'H still growing').toBe(false);
          await caughtUp(replayed.filter((g) => !g.groupId.endsWith('-join')));
        },
        240_000,
        4000,
      );
      await sleep(3000); // a recluster run after the replay
      expect(await holdings(victim)).toEqual(NOTHING);
      const restAfter = await Promise.all(others.slice(0, 10).map(holdings));
      expect(restAfter.map((h) => h.profile)).toEqual(rest.map((h) => h.profile));
      expect(restAfter.map((h) => h.events)).toEqual(rest.map((h) => h.events));
      await p.kill('SIGTERM');
    }, 600_000);
  },
);
