import { QdrantClient } from '@qdrant/js-client-rest';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RankedOption, TrainingExample } from '../../schemas/index.ts';
import { contextPointsFromExamples } from '../../streams/sinks/context-points.ts';
import { client as http, spawnApi } from './api-harness.ts';
import { storeUrl } from './stores.ts';
import {
  eventually,
  kafkaClient,
  namespace,
  type Outcome,
  produce,
  produceWhileKilling,
  reference,
  sessionTraffic,
  spawnStream,
  withStoreStopped,
} from './stream-harness.ts';

const svc = inject('services');
const qdrantUrl = svc.ok ? storeUrl(svc, 'QDRANT_URL') : null;
const START = Date.parse('2030-07-01T00:00:00Z');
const _sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.ok || !qdrantUrl)('Qdrant behind P_vec: the index sink and /recommend', () => {
  let kafka: Kafka;
  let qdrant: QdrantClient;
  const running: { kill(signal?: NodeJS.Signals): Promise<number | null> }[] = [];
  const collections: string[] = [];
  beforeAll(() => {
    kafka = kafkaClient(svc);
    qdrant = new QdrantClient({ url: qdrantUrl!, checkCompatibility: false });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    for (const c of collections) await qdrant.deleteCollection(c).catch(() => {});
  });

  const qdrantNamespace = () => {
    const n = namespace(svc);
    const collection = `${n.ns.replace(/[^A-Za-z0-9_-]/g, '_')}_contexts_h`;
    collections.push(collection);
    return { ...n, collection, env: { ...n.env, QDRANT_URL: qdrantUrl!, QDRANT_COLLECTION: collection } };
  };
  const stream = (env: Record<string, string>) => {
    const p = spawnStream(env);
    running.push(p);
    return p;
  };
  const traffic = (sessions: number, seed: number) => sessionTraffic(sessions, seed, START, 0.6);

  /** The sessions whose latest revision qualifies for the index (high consistency, a kept option). */
  const expectedPoints = (ref: Outcome) => {
    const hs = [...ref.examples.values()] as TrainingExample[];
    hs.sort((a, b) => a.revision - b.revision);
    const { upserts } = contextPointsFromExamples(hs, () => [1, 0, 0]);
    return new Set(upserts.map((p) => p.id));
  };
  async function points(collection: string): Promise<Set<string>> {
    const ids = new Set<string>();
    let offset: string | number | undefined | null;
    do {
      const page = await qdrant.scroll(collection, {
        limit: 1000,
        with_payload: true,
        offset: offset ?? undefined,
      });
      for (const p of page.points)
        ids.add(String((p.payload as { recommend_session_id: string }).recommend_session_id));
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset);
    return ids;
  }

  it('1,000 sessions: the collection holds exactly the high-consistency sessions, also after kill -9 ×3', async () => {
    const events = traffic(1000, 51);
    const ref = await reference(events);
    const want = expectedPoints(ref);
    expect(want.size).toBeGreaterThan(100);
    const n = qdrantNamespace();
    const _p = await produceWhileKilling({
      kafka,
      topics: n.topics,
      events,
      start: () => stream(n.env),
      kills: 3,
      seed: 3,
    });
    await eventually(async () => {
      const got = new Set([...(await points(n.collection))].filter((id) => !id.startsWith('flush-')));
      expect(got).toEqual(want);
    }, 150_000);
  });

  // Stopping the store needs the local services (scripts/services), not containers.
  it.skipIf(svc.source !== '.services.env')(
    '/recommend through npm run api reads P_vec from Qdrant; Qdrant away → degraded, never a 5xx; the sink catches up',
    async () => {
      const events = traffic(300, 52);
      const ref = await reference(events);
      const want = expectedPoints(ref);
      const n = qdrantNamespace();
      stream(n.env);
      const api = spawnApi(n.env);
      running.push(api);
      const c = http(await api.port);
      await eventually(async () => expect((await c.get('/ready')).status).toBe(200), 30_000, 200);
      const half = Math.floor(events.length / 2);
      await produce(kafka, n.topics, events.slice(0, half));
      await eventually(async () => expect((await points(n.collection)).size).toBeGreaterThan(10), 60_000);
      const text = (events.find((e) => e.type === 'recommend') as { context: { text: string } }).context.text;
      const ok = await c.post('/recommend', { user_id: 'someone', text });
      expect(ok.status).toBe(200);
      expect(ok.body.vector_index).toBe('qdrant');
      expect(ok.body.degraded).toBeUndefined();
      const vec = (ok.body.options as RankedOption[]).map((o) => o.components?.vec ?? 0);
      expect(Math.max(...vec)).toBeGreaterThan(0);

      await withStoreStopped('qdrant', 10_000, async () => {
        await produce(kafka, n.topics, events.slice(half));
        const r = await c.post('/recommend', { user_id: 'someone', text });
        expect(r.status).toBe(200);
        expect(r.body.degraded).toBe(true);
        expect(JSON.stringify(r.body.degraded_reasons)).toMatch(/vector_index/);
      });
      await eventually(async () => {
        const got = new Set([...(await points(n.collection))].filter((id) => !id.startsWith('flush-')));
        expect(got).toEqual(want);
      }, 120_000);
      const again = await c.post('/recommend', { user_id: 'someone', text });
      expect(again.body.degraded).toBeUndefined();
    },
  );
});
