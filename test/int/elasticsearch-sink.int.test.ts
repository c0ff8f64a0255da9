import { execFileSync } from 'node:child_process';
import { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrainingExample } from '../../schemas/index.ts';
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
  reference,
  type StreamProcess,
  sessionTraffic,
  spawnStream,
  withStoreStopped,
} from './stream-harness.ts';

const svc = inject('services');
const esUrl = svc.ok ? storeUrl(svc, 'ES_URL') : null;
const START = Date.parse('2030-05-01T00:00:00Z');
const _sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.ok || !esUrl)('the golden sink of the stream processor (Elasticsearch)', () => {
  let kafka: Kafka;
  let es: Client;
  const running: StreamProcess[] = [];
  const prefixes: string[] = [];
  const start = (env: Record<string, string>) => {
    const p = spawnStream(env);
    running.push(p);
    return p;
  };
  beforeAll(() => {
    kafka = kafkaClient(svc);
    es = new Client({ node: esUrl! });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    for (const p of prefixes) {
      await es.indices.delete({ index: `${p}*`, ignore_unavailable: true }).catch(() => {});
      await es.indices.deleteIndexTemplate({ name: p.replace(/[-_.]+$/, '') }).catch(() => {});
    }
    await es.close();
  });

  const esNamespace = () => {
    const n = namespace(svc);
    const prefix = `${n.ns.toLowerCase()}-golden-`;
    prefixes.push(prefix);
    return { ...n, prefix, env: { ...n.env, ES_URL: esUrl!, ES_INDEX_PREFIX: prefix } };
  };

  const traffic = (sessions: number, seed: number) => sessionTraffic(sessions, seed, START);

  /** Session id → revision of every golden document (all daily indices of the prefix). */
  async function documents(prefix: string): Promise<Map<string, number>> {
    await es.indices.refresh({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true });
    const out = new Map<string, number>();
    const res = await es.search<{ recommend_session_id: string; revision: number }>({
      index: `${prefix}*`,
      size: 10_000,
      ignore_unavailable: true,
      allow_no_indices: true,
      _source: ['recommend_session_id', 'revision'],
      query: { match_all: {} },
    });
    for (const h of res.hits.hits) {
      const id = h._source!.recommend_session_id;
      expect(out.has(id), `two documents for ${id}`).toBe(false);
      out.set(id, h._source!.revision);
    }
    return out;
  }

  const latest = (ref: Outcome) => {
    const m = new Map<string, number>();
    for (const h of ref.examples.values() as Iterable<TrainingExample>)
      m.set(h.recommend_session_id, Math.max(m.get(h.recommend_session_id) ?? 0, h.revision));
    return m;
  };
  const withoutFlush = (m: Map<string, number>) => new Map([...m].filter(([id]) => !id.startsWith('flush-')));

  it('1,000 interleaved sessions: one document per session at its latest revision, also after kill -9 ×3', async () => {
    const events = traffic(1000, 41);
    const ref = await reference(events);
    const n = esNamespace();
    const _p = await produceWhileKilling({
      kafka,
      topics: n.topics,
      events,
      start: () => start(n.env),
      kills: 3,
      seed: 9,
    });
    await eventually(
      async () => expect(withoutFlush(await documents(n.prefix))).toEqual(latest(ref)),
      150_000,
    );
    await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 60_000);
  });

  // Stopping the store needs the local services (scripts/services), not containers.
  it.skipIf(svc.source !== '.services.env')(
    'Elasticsearch away for 10 s: profiles stay current, the golden sink catches up with nothing lost or doubled',
    async () => {
      const events = traffic(300, 42);
      const ref = await reference(events);
      const n = esNamespace();
      start(n.env);
      await produce(kafka, n.topics, events.slice(0, 150));
      await eventually(async () => expect((await documents(n.prefix)).size).toBeGreaterThan(0));
      await withStoreStopped('elasticsearch', 10_000, async () => {
        await produce(kafka, n.topics, events.slice(150));
        // The profile fold does not wait for Elasticsearch.
        await eventually(
          async () => {
            const profiles = await readProfiles(svc, n.redisPrefix);
            expect([...profiles.keys()].sort()).toEqual([...ref.profiles.keys()].sort());
          },
          9_000,
          250,
        );
      });
      await eventually(
        async () => expect(withoutFlush(await documents(n.prefix))).toEqual(latest(ref)),
        120_000,
      );
      await eventually(() => expectSameOutcome(kafka, svc, n.topics, n.redisPrefix, ref), 30_000);
    },
  );

  it('events an outside client (kcat) produces become searchable documents', async () => {
    const n = esNamespace();
    start(n.env);
    const session = `kcat-es-${Date.now()}`;
    const ours = [mkA(session, 'kcat-user', 0), mkB(session, 'kcat-user', 1), mkC(session, 'kcat-user', 2)];
    const topic = {
      recommend: n.topics.recommend,
      paraphrase: n.topics.paraphrase,
      selection: n.topics.selection,
    };
    for (const e of ours) {
      execFileSync('kcat', ['-P', '-b', svc.kafkaBrokers.split(',')[0]!, '-t', topic[e.type], '-K', '\t'], {
        input: `${session}\t${JSON.stringify(e)}\n`,
      });
    }
    await eventually(async () => {
      await es.indices.refresh({ index: `${n.prefix}*`, ignore_unavailable: true, allow_no_indices: true });
      const res = await es.search({
        index: `${n.prefix}*`,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { term: { recommend_session_id: session } },
      });
      expect(res.hits.hits).toHaveLength(1);
    }, 60_000);
  });
});
