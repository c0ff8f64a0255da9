import type { Paraphraser } from '../../api/paraphrase/paraphraser.ts';
import type { ScoringConfig } from '../../api/scoring/index.ts';
import { createEmbeddedWheel } from '../../app/embedded-wheel.ts';
import type { SessionEvent } from '../../schemas/index.ts';
import type { ClusterStore, ProfileStore } from '../../streams/stores/profile-store.ts';

export interface HarnessOptions {
  readonly scoring?: Partial<ScoringConfig>;
  readonly personalised?: boolean;
  readonly profiles?: ProfileStore;
  readonly clusters?: ClusterStore;
  readonly b?: Paraphraser;
  readonly ready?: () => boolean;
  readonly onUpstreamError?: (what: string, err: unknown) => void;
}

/** The API over the embedded wheel (offline LLM, 64-dim embeddings, ε = 0 unless asked), for app.request() tests. */
export async function apiHarness(o: HarnessOptions = {}) {
  let n = 0;
  const wheel = await createEmbeddedWheel({
    startMs: Date.parse('2026-03-02T09:00:00Z'),
    embeddingDim: 64,
    clusters: 3,
    scoring: { epsilon: 0, ...o.scoring },
    personalised: o.personalised,
    newId: () => `id-${++n}`,
    profiles: o.profiles,
    clusterStore: o.clusters,
    paraphraserB: o.b,
    ready: o.ready,
    onUpstreamError: o.onUpstreamError,
  });
  const post = async (path: string, body: unknown) => {
    const res = await wheel.app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    app: wheel.app,
    log: wheel.log,
    metrics: wheel.metrics,
    profiles: wheel.profiles,
    clusters: wheel.clusters,
    index: wheel.index,
    embedder: wheel.embedder,
    topics: wheel.config.topics,
    post,
    advance: wheel.advance,
    get: async (path: string) => {
      const res = await wheel.app.request(path);
      const ct = res.headers.get('content-type') ?? '';
      return {
        status: res.status,
        body: ct.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text(),
      };
    },
    events(topic: string): SessionEvent[] {
      return wheel.log.read(topic).map((r) => JSON.parse(r.value.toString()) as SessionEvent);
    },
    /** Joins, folds, indexes and re-clusters what the API emitted so far. */
    fold: () => wheel.settle(),
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
