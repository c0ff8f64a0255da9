import type { SessionEventType } from './events.ts';

/** Topic names and keys, in one place (DESIGN §3). */
export interface TopicNames {
  readonly recommend: string;
  readonly paraphrase: string;
  readonly selection: string;
  readonly trainingExamples: string;
  readonly deadLetter: string;
  /** Erasure requests (`user_erasure`), keyed by user_id. */
  readonly erasure: string;
}

/** The topics of a namespace (`TOPIC_NAMESPACE`): `<ns>.a`, `<ns>.b`, `<ns>.c`, `<ns>.training-examples`, `<ns>.dead-letter`, `<ns>.erasure`. */
export function topicNames(namespace: string): TopicNames {
  return Object.freeze({
    recommend: `${namespace}.a`,
    paraphrase: `${namespace}.b`,
    selection: `${namespace}.c`,
    trainingExamples: `${namespace}.training-examples`,
    deadLetter: `${namespace}.dead-letter`,
    erasure: `${namespace}.erasure`,
  });
}

export const DEFAULT_TOPICS: TopicNames = topicNames('sentencify');

/** A, B and C must share a partition count so one processor instance sees a whole session. */
export const DEFAULT_SESSION_PARTITIONS = 6;
export const DEFAULT_TRAINING_PARTITIONS = 6;

export function topicForEvent(topics: TopicNames, type: SessionEventType): string {
  switch (type) {
    case 'recommend':
      return topics.recommend;
    case 'paraphrase':
      return topics.paraphrase;
    case 'selection':
      return topics.selection;
  }
}

/** A, B, C are keyed by recommend_session_id; H by user_id; dead letters keep the original key. */
export const sessionEventKey = (e: { recommend_session_id: string }): string => e.recommend_session_id;
export const trainingExampleKey = (h: { user_id: string }): string => h.user_id;
