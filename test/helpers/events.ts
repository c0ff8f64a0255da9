import type { ParaphraseEvent, RecommendEvent, SelectionEvent, SessionEvent } from '../../schemas/index.ts';
import { DEFAULT_TOPICS, topicForEvent } from '../../schemas/index.ts';
import type { SessionRecord } from '../../streams/state/session-join.ts';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');
export const MIN = 60_000;
export const at = (minutes: number): string => new Date(T0 + minutes * MIN).toISOString();
export const TOPICS = DEFAULT_TOPICS;
export const INPUT_TOPICS = [TOPICS.recommend, TOPICS.paraphrase, TOPICS.selection];

export function mkA(
  session: string,
  user: string,
  minutes: number,
  over: Partial<RecommendEvent> = {},
): RecommendEvent {
  return {
    type: 'recommend',
    event_id: `a-${session}`,
    schema_version: 1,
    ts: at(minutes),
    user_id: user,
    recommend_session_id: session,
    doc_id: `doc-${user}`,
    context: { text: `Sentence for ${session}.`, language: 'en' },
    options: [
      {
        category: 'email',
        intensity: 'moderate',
        rank: 1,
        score: 0.5,
        propensity: 1,
        components: { vec: 0.5, doc: 0.5, user: 0.5, cluster: 0.5 },
      },
    ],
    alpha: 0.2,
    beta: 0.3,
    variant: 'A',
    epsilon: 0,
    explored: false,
    model_version: 'test',
    profile_version: null,
    ...over,
  };
}

export function mkB(
  session: string,
  user: string,
  minutes: number,
  over: Partial<ParaphraseEvent> = {},
): ParaphraseEvent {
  return {
    type: 'paraphrase',
    event_id: `b-${session}`,
    schema_version: 1,
    ts: at(minutes),
    user_id: user,
    recommend_session_id: session,
    request: { category: 'email', intensity: 'moderate' },
    candidates: ['one', 'two', 'three'],
    llm: {
      provider: 'offline',
      model: 'offline-1',
      variant: 'A',
      prompt_tokens: 10,
      completion_tokens: 20,
      latency_ms: 1,
    },
    ...over,
  };
}

export function mkC(
  session: string,
  user: string,
  minutes: number,
  over: Partial<SelectionEvent> = {},
): SelectionEvent {
  return {
    type: 'selection',
    event_id: `c-${session}`,
    schema_version: 1,
    ts: at(minutes),
    user_id: user,
    recommend_session_id: session,
    chosen_index: 0,
    edited: false,
    ...over,
  };
}

/** Wraps events as records of partition 0 (or `partition`), numbering offsets per topic. */
export function recorder(partition = 0): (e: SessionEvent) => SessionRecord {
  const next = new Map<string, number>();
  return (event) => {
    const topic = topicForEvent(TOPICS, event.type);
    const offset = next.get(topic) ?? 0;
    next.set(topic, offset + 1);
    return { topic, partition, offset, event };
  };
}
