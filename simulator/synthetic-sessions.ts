import type { ParaphraseEvent, RecommendEvent, SelectionEvent, SessionEvent } from '../schemas/index.ts';
import { DEFAULT_VOCABULARY, INTENSITIES, type OptionVocabulary } from '../schemas/index.ts';
import { mulberry32 } from '../streams/clustering/kmeans.ts';

/** The shapes a session can take, including every edge case the join must handle. */
export const SESSION_PATTERNS = [
  'complete',
  'no_selection',
  'not_paraphrased',
  'no_paraphrase',
  'late_selection',
  'beyond_grace',
  'duplicate',
  'out_of_order',
  'style_request',
  'rejected',
] as const;
export type SessionPattern = (typeof SESSION_PATTERNS)[number];

export interface SyntheticOptions {
  readonly sessions: number;
  readonly users: number;
  readonly seed: number;
  /** Event time of the first session (ms). */
  readonly startMs: number;
  /** Event-time gap between session starts (ms, default 20 s). */
  readonly spacingMs?: number;
  readonly windowMs?: number;
  readonly graceMs?: number;
  /** Share of sessions that follow the happy path; the rest is spread over the edge cases. */
  readonly completeShare?: number;
  readonly vocabulary?: OptionVocabulary;
}

export interface SyntheticSession {
  readonly id: string;
  readonly user: string;
  readonly pattern: SessionPattern;
  readonly favourite: { category: string; intensity: string };
}

export interface SyntheticTraffic {
  /** Events in append order (roughly event-time order, as producers would write them). */
  readonly events: readonly SessionEvent[];
  readonly sessions: readonly SyntheticSession[];
}

const TEXTS = [
  'Please find the quarterly report attached for your review.',
  '본 연구는 문장 재작성의 개인화 효과를 분석한다.',
  'Our new product launches next week with a special discount.',
  '고객님의 문의에 감사드리며 빠르게 답변드리겠습니다.',
  'The results suggest a significant improvement over the baseline.',
  '회의 일정을 다음 주 화요일로 변경하고자 합니다.',
  'Thank you for reaching out about your order.',
  '이번 분기 매출은 전년 대비 12% 증가했습니다.',
];

/**
 * Deterministic synthetic A/B/C traffic: each user has a favourite option they mostly pick, and
 * sessions follow the patterns above. Used by the tests, the benchmarks and the demo start-up.
 */
export function syntheticTraffic(o: SyntheticOptions): SyntheticTraffic {
  const rnd = mulberry32(o.seed);
  const vocab = o.vocabulary ?? DEFAULT_VOCABULARY;
  const spacing = o.spacingMs ?? 20_000;
  const window = o.windowMs ?? 30 * 60_000;
  const grace = o.graceMs ?? 10 * 60_000;
  const completeShare = o.completeShare ?? 0.6;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const favourites = Array.from({ length: o.users }, () => ({
    category: pick(vocab.categories),
    intensity: pick(INTENSITIES),
  }));
  const timed: { ts: number; seq: number; e: SessionEvent }[] = [];
  const sessions: SyntheticSession[] = [];
  let seq = 0;
  const push = (ts: number, e: SessionEvent) => timed.push({ ts, seq: seq++, e });
  const iso = (ms: number) => new Date(ms).toISOString();
  const edge = SESSION_PATTERNS.filter((p) => p !== 'complete');

  for (let i = 0; i < o.sessions; i++) {
    const u = Math.floor(rnd() * o.users);
    const user = `user-${u}`;
    const id = `sess-${o.seed}-${i}`;
    const pattern: SessionPattern = rnd() < completeShare ? 'complete' : pick(edge);
    const fav = favourites[u]!;
    const option = rnd() < 0.8 ? fav : { category: pick(vocab.categories), intensity: pick(INTENSITIES) };
    sessions.push({ id, user, pattern, favourite: fav });
    const t0 = o.startMs + i * spacing + Math.floor(rnd() * spacing);
    const text = pick(TEXTS);
    const a: RecommendEvent = {
      type: 'recommend',
      event_id: `${id}-a`,
      schema_version: 1,
      ts: iso(t0),
      user_id: user,
      recommend_session_id: id,
      doc_id: `doc-${u}-${Math.floor(i / 10)}`,
      context: { text, language: /[가-힣]/.test(text) ? 'ko' : 'en' },
      options: vocab.categories.slice(0, 3).map((category, r) => ({
        category,
        intensity: 'moderate' as const,
        rank: r + 1,
        score: 1 / (r + 2),
        propensity: 1 / 3,
        components: { vec: 0.3, doc: 0.3, user: 0.2, cluster: 0.2 },
      })),
      alpha: 0.2,
      beta: 0.3,
      variant: 'A',
      epsilon: 0,
      explored: false,
      model_version: 'synthetic',
      profile_version: null,
    };
    const b: ParaphraseEvent = {
      type: 'paraphrase',
      event_id: `${id}-b`,
      schema_version: 1,
      ts: iso(t0 + 5_000),
      user_id: user,
      recommend_session_id: id,
      request:
        pattern === 'style_request'
          ? { style_request: pick(['정중하게', '요약해줘', 'make it shorter', 'more formal']) }
          : { category: option.category, intensity: option.intensity as (typeof INTENSITIES)[number] },
      candidates: [`${text} (1)`, `${text} (2)`, `${text} (3)`],
      llm: {
        provider: 'offline',
        model: 'offline-paraphraser-v1',
        variant: 'A',
        prompt_tokens: 40,
        completion_tokens: 60,
        latency_ms: 5,
      },
    };
    const cAt = (ms: number, over: Partial<SelectionEvent> = {}): SelectionEvent => ({
      type: 'selection',
      event_id: `${id}-c`,
      schema_version: 1,
      ts: iso(ms),
      user_id: user,
      recommend_session_id: id,
      chosen_index: pattern === 'rejected' ? null : Math.floor(rnd() * 3),
      edited: rnd() < 0.1,
      ...over,
    });
    switch (pattern) {
      case 'complete':
      case 'style_request':
      case 'rejected':
        push(t0, a);
        push(t0 + 5_000, b);
        push(t0 + 20_000, cAt(t0 + 20_000));
        break;
      case 'no_selection':
        push(t0, a);
        push(t0 + 5_000, b);
        break;
      case 'not_paraphrased':
        push(t0, a);
        break;
      case 'no_paraphrase':
        push(t0, a);
        push(t0 + 20_000, cAt(t0 + 20_000));
        break;
      case 'late_selection':
        push(t0, a);
        push(t0 + 5_000, b);
        push(t0 + window + grace / 2, cAt(t0 + window + grace / 2));
        break;
      case 'beyond_grace':
        push(t0, a);
        push(t0 + 5_000, b);
        push(t0 + window + grace + 60_000, cAt(t0 + window + grace + 60_000));
        break;
      case 'duplicate':
        push(t0, a);
        push(t0 + 5_000, b);
        push(t0 + 6_000, b); // a producer retry: same event id, appended again
        push(t0 + 20_000, cAt(t0 + 20_000));
        push(t0 + 21_000, a);
        break;
      case 'out_of_order': {
        // The editor's clock put B before A; B is also written first.
        const early = { ...b, ts: iso(t0 - 3_000) };
        push(t0 - 3_000, early);
        push(t0, a);
        push(t0 + 20_000, cAt(t0 + 20_000));
        break;
      }
    }
  }
  timed.sort((x, y) => x.ts - y.ts || x.seq - y.seq);
  return { events: timed.map((t) => t.e), sessions };
}
