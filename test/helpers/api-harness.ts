import { createApi } from '../../api/app.ts';
import { createMemoryDocStore } from '../../api/docs/doc-store.ts';
import { createLogEventSink } from '../../api/event-sink.ts';
import { createAbRouter } from '../../api/paraphrase/ab-router.ts';
import { createOfflineParaphraser } from '../../api/paraphrase/offline-paraphraser.ts';
import type { Paraphraser } from '../../api/paraphrase/paraphraser.ts';
import { DEFAULT_SCORING_CONFIG, type ScoringConfig } from '../../api/scoring/index.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { DEFAULT_TOPICS, DEFAULT_VOCABULARY, type SessionEvent } from '../../schemas/index.ts';
import { createHashingEmbedder } from '../../streams/embeddings/hashing-embedder.ts';
import { EmbeddedLog } from '../../streams/log/embedded-log.ts';
import {
  type ClusterStore,
  createMemoryClusterStore,
  createMemoryProfileStore,
  type ProfileStore,
} from '../../streams/stores/profile-store.ts';
import { startJoinProcessor, startProfileProcessor, topicSpecs } from '../../streams/topology.ts';
import { createMemoryVectorIndex } from '../../streams/vector/memory-vector-index.ts';
import { TEST_CFG } from './embedded-wheel.ts';

export interface HarnessOptions {
  readonly scoring?: Partial<ScoringConfig>;
  readonly personalised?: boolean;
  readonly profiles?: ProfileStore;
  readonly clusters?: ClusterStore;
  readonly b?: Paraphraser;
  readonly ready?: () => boolean;
}

/** The API over the embedded wheel: log, stores, index, offline LLM; processors started on demand. */
export async function apiHarness(o: HarnessOptions = {}) {
  let now = Date.parse('2026-03-02T09:00:00Z');
  const clock = () => now;
  const log = new EmbeddedLog({ clock, idleIntervalMs: 2 });
  const cfg = { ...TEST_CFG, recluster: { k: 3, seed: 1, everyUpdates: 0 } };
  await log.ensureTopics(topicSpecs(cfg));
  const profiles = o.profiles ?? createMemoryProfileStore();
  const clusters = o.clusters ?? createMemoryClusterStore();
  const embedder = createHashingEmbedder(64);
  const index = createMemoryVectorIndex({ dim: 64 });
  const metrics = new MetricsRegistry();
  let n = 0;
  const app = createApi({
    events: createLogEventSink(log, cfg.topics),
    profiles,
    clusters,
    index,
    embedder,
    router: createAbRouter({ a: createOfflineParaphraser(), b: o.b, salt: 'test' }),
    docs: createMemoryDocStore(),
    vocabulary: DEFAULT_VOCABULARY,
    scoring: { ...DEFAULT_SCORING_CONFIG, epsilon: 0, ...o.scoring },
    personalised: o.personalised ?? true,
    metrics,
    clock,
    newId: () => `id-${++n}`,
    clusterCacheMs: 0,
    ready: o.ready,
  });
  const deps = { log, profiles, clusters, embedder, index, clock };
  const post = async (path: string, body: unknown) => {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    app,
    log,
    metrics,
    profiles,
    clusters,
    index,
    embedder,
    post,
    advance: (ms: number) => {
      now += ms;
    },
    get: async (path: string) => {
      const res = await app.request(path);
      const ct = res.headers.get('content-type') ?? '';
      return {
        status: res.status,
        body: ct.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text(),
      };
    },
    events(topic: string): SessionEvent[] {
      return log.read(topic).map((r) => JSON.parse(r.value.toString()) as SessionEvent);
    },
    /** Runs the stream processors over what the API emitted, until profiles and the index caught up. */
    async fold() {
      const join = startJoinProcessor(deps, cfg);
      const prof = startProfileProcessor(deps, cfg);
      const topics = [cfg.topics.recommend, cfg.topics.paraphrase, cfg.topics.selection];
      const until = Date.now() + 10_000;
      while (
        join.stats.records < topics.reduce((s, t) => s + log.read(t).length, 0) ||
        log.lag(cfg.profileGroup, [cfg.topics.trainingExamples]) > 0
      ) {
        if (Date.now() > until) throw new Error('fold did not catch up');
        await new Promise((r) => setTimeout(r, 5));
      }
      await prof.reclusterNow();
      await join.stop();
      await prof.stop();
    },
    topics: DEFAULT_TOPICS,
  };
}

/** One full session through the API: recommend → paraphrase with an option → select. */
export async function session(
  h: Awaited<ReturnType<typeof apiHarness>>,
  user: string,
  text: string,
  option: { category: string; intensity: string },
  accept = true,
) {
  const rec = await h.post('/recommend', { user_id: user, text, doc_id: `doc-${user}` });
  const sid = String(rec.body.recommend_session_id);
  h.advance(5_000);
  const para = await h.post('/paraphrase', { recommend_session_id: sid, user_id: user, text, ...option });
  h.advance(10_000);
  const sel = await h.post('/select', {
    recommend_session_id: sid,
    user_id: user,
    chosen_index: accept ? 0 : null,
  });
  h.advance(60_000);
  return { rec, para, sel, sid };
}
