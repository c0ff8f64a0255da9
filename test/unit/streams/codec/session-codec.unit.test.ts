import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPICS } from '../../../../schemas/index.ts';
import {
  checkpointFromCommit,
  checkpointMetadata,
  decodeSessionRecord,
  isDeadLetter,
} from '../../../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { mkA, mkC } from '../../../helpers/events.ts';

const rec = (topic: string, key: string | null, value: string | Buffer): LogRecord => ({
  topic,
  partition: 1,
  offset: 42,
  key,
  value: Buffer.isBuffer(value) ? value : Buffer.from(value),
  timestamp: 0,
});

describe('decodeSessionRecord', () => {
  const a = mkA('s1', 'u1', 0);
  it('accepts a valid A on the A topic keyed by its session', () => {
    const r = decodeSessionRecord(rec(DEFAULT_TOPICS.recommend, 's1', JSON.stringify(a)), DEFAULT_TOPICS);
    expect(isDeadLetter(r)).toBe(false);
  });

  it.each([
    ['malformed_json', rec(DEFAULT_TOPICS.recommend, 's1', '{"type": "recommend",'), /not JSON/],
    [
      'oversized',
      rec(DEFAULT_TOPICS.recommend, 's1', Buffer.alloc(300_000, 32)),
      /over the 262144-byte limit/,
    ],
    [
      'schema_invalid',
      rec(DEFAULT_TOPICS.recommend, 's1', JSON.stringify({ ...a, alpha: 'high', options: [] })),
      /options: .*; alpha: /,
    ],
    [
      'schema_invalid',
      rec(DEFAULT_TOPICS.paraphrase, 's1', JSON.stringify(a)),
      /a recommend event on topic sentencify\.b/,
    ],
    ['wrong_key', rec(DEFAULT_TOPICS.recommend, 'other', JSON.stringify(a)), /must be keyed by it/],
    ['wrong_key', rec(DEFAULT_TOPICS.selection, null, JSON.stringify(mkC('s1', 'u1', 1))), /key null/],
  ])('dead-letters %s with a reason and the original bytes', (code, r, reason) => {
    const d = decodeSessionRecord(r, DEFAULT_TOPICS);
    expect(isDeadLetter(d)).toBe(true);
    if (!isDeadLetter(d)) return;
    expect(d.code).toBe(code);
    expect(d.reason).toMatch(reason);
    expect([d.topic, d.partition, d.offset]).toEqual([r.topic, 1, 42]);
    expect(d.raw!.length).toBeGreaterThan(0);
  });

  it('round-trips checkpoints through commit metadata, infinities included', () => {
    const cp = { topic: 't', partition: 2, offset: 9, watermark: Number.NEGATIVE_INFINITY, topicMaxTs: 1234 };
    const back = checkpointFromCommit({
      topic: 't',
      partition: 2,
      offset: 9,
      metadata: checkpointMetadata(cp),
    });
    expect(back).toEqual(cp);
    expect(checkpointFromCommit({ topic: 't', partition: 2, offset: 9, metadata: 'garbage' })).toBeNull();
    expect(checkpointFromCommit({ topic: 't', partition: 2, offset: 9, metadata: null })).toBeNull();
  });
});
