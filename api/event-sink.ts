import { type SessionEvent, type TopicNames, topicForEvent } from '../schemas/index.ts';
import type { EventLog } from '../streams/log/event-log.ts';

/** Where the API's A/B/C go: the event-log port, keyed by recommend_session_id. */
export interface EventSink {
  emit(event: SessionEvent): Promise<void>;
}

export function createLogEventSink(log: EventLog, topics: TopicNames): EventSink {
  return {
    emit: (e) =>
      log.send(topicForEvent(topics, e.type), [
        { key: e.recommend_session_id, value: Buffer.from(JSON.stringify(e)) },
      ]),
  };
}
