import { Observable, type OperatorFunction } from 'rxjs';
import type { DeadLetter, TrainingExample } from '../../schemas/index.ts';
import {
  type JoinCheckpoint,
  SessionJoin,
  type SessionJoinOptions,
  type SessionRecord,
} from '../state/session-join.ts';

/** The source tells the join that every input of `partition` is caught up at event time `now`. */
export interface WatermarkTick {
  readonly partition: number;
  readonly now: number;
}

/**
 * One unit of input: the records of a fetched batch, plus the source's control signals. `token`
 * is carried through untouched so the caller can acknowledge the batch once its outputs are safe.
 */
export interface JoinBatch<T = unknown> {
  readonly records?: readonly SessionRecord[];
  readonly ticks?: readonly WatermarkTick[];
  /** Offsets read but dead-lettered before the join (bad bytes): they still advance the commit. */
  readonly skipped?: readonly { topic: string; partition: number; offset: number }[];
  /** Partitions newly assigned to this instance, with the checkpoints committed for them. */
  readonly assigned?: readonly { partition: number; checkpoints: readonly JoinCheckpoint[] }[];
  readonly revoked?: readonly number[];
  /** End of a bounded input: close every open session now. */
  readonly final?: boolean;
  readonly token?: T;
}

export interface JoinResult<T = unknown> {
  readonly examples: readonly TrainingExample[];
  readonly deadLetters: readonly DeadLetter[];
  /**
   * Per touched topic-partition, the smallest offset still needed by a held session: committing
   * it (after the examples and dead letters above are safely written) can never skip a session.
   */
  readonly checkpoints: readonly JoinCheckpoint[];
  readonly token: T | undefined;
}

/**
 * Joins A/B/C events by `recommend_session_id` in event-time windows into training examples (H),
 * emitting one `JoinResult` per input batch. State lives in the subscription: each subscriber gets
 * its own, and it is rebuilt after a restart by replaying from the committed checkpoints.
 *
 * @example
 * records$.pipe(
 *   map((records) => ({ records })),
 *   joinBySession({ inputTopics: ['sentencify.a', 'sentencify.b', 'sentencify.c'], windowMs: 30 * 60_000 }),
 * ).subscribe(({ examples }) => examples.forEach(console.log));
 */
export function joinBySession<T = unknown>(
  opts: SessionJoinOptions,
): OperatorFunction<JoinBatch<T>, JoinResult<T>> {
  return (source) =>
    new Observable<JoinResult<T>>((subscriber) => {
      const join = new SessionJoin(opts);
      return source.subscribe({
        next(batch) {
          try {
            for (const p of batch.revoked ?? []) join.revoke(p);
            for (const a of batch.assigned ?? []) join.assign(a.partition, a.checkpoints);
            for (const r of batch.records ?? []) join.push(r);
            for (const k of batch.skipped ?? []) join.skip(k.topic, k.partition, k.offset);
            for (const t of batch.ticks ?? []) join.tick(t.partition, t.now);
            if (batch.final) join.flushAll();
            const { examples, deadLetters } = join.drain();
            subscriber.next({ examples, deadLetters, checkpoints: join.checkpoints(), token: batch.token });
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete() {
          join.flushAll();
          const { examples, deadLetters } = join.drain();
          if (examples.length > 0 || deadLetters.length > 0) {
            subscriber.next({ examples, deadLetters, checkpoints: join.checkpoints(), token: undefined });
          }
          subscriber.complete();
        },
      });
    });
}
