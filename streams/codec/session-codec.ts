import type { z } from 'zod';
import {
  type DeadLetter,
  type SessionEventType,
  sessionEventSchema,
  type TopicNames,
  type TrainingExample,
  trainingExampleSchema,
} from '../../schemas/index.ts';
import type { LogMessage, LogRecord } from '../log/event-log.ts';
import type { JoinCheckpoint, SessionRecord } from '../state/session-join.ts';
import { BAIL, compileFastParser, type FastParser, UnsupportedSchemaError } from './fast-decode.ts';

/** Default cap on one event's encoded size; larger ones are dead-lettered as oversized. */
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;

/** Readable one-line summary of zod issues: `options.0.score: expected number, received string`. */
export function describeIssues(error: z.ZodError, max = 5): string {
  const parts = error.issues
    .slice(0, max)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > max) parts.push(`… ${error.issues.length - max} more`);
  return parts.join('; ');
}

function eventTypeOfTopic(topics: TopicNames, topic: string): SessionEventType | null {
  if (topic === topics.recommend) return 'recommend';
  if (topic === topics.paraphrase) return 'paraphrase';
  if (topic === topics.selection) return 'selection';
  return null;
}

function decodeFailure(
  rec: LogRecord,
  code: DeadLetter['code'],
  reason: string,
  parsed?: unknown,
): DeadLetter {
  const obj = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  return {
    code,
    reason,
    topic: rec.topic,
    partition: rec.partition,
    offset: rec.offset,
    event_id: typeof obj?.event_id === 'string' ? obj.event_id : null,
    recommend_session_id: typeof obj?.recommend_session_id === 'string' ? obj.recommend_session_id : null,
    raw: rec.value.toString('utf8', 0, Math.min(rec.value.length, 64 * 1024)),
  };
}

/**
 * A record's value turned into a JS value by an EventSerde (plain JSON, or a Schema Registry),
 * or why it could not be.
 */
export type DecodedValue =
  | { readonly value: unknown }
  | { readonly code: 'malformed_json' | 'schema_invalid'; readonly reason: string };

/** Plain JSON (what every producer wrote before the Schema Registry). */
export function parseJsonValue(bytes: Buffer): DecodedValue {
  try {
    return { value: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    return { code: 'malformed_json', reason: `not JSON: ${(err as Error).message}` };
  }
}

/** zod's verdict on a parsed A/B/C value: the event, or the error that explains why not. */
type SessionEventVerdict =
  | { readonly success: true; readonly data: z.infer<typeof sessionEventSchema> }
  | { readonly success: false; readonly error: z.ZodError };

/**
 * The fast path compiled from sessionEventSchema (fast-decode.ts), or null when the schema uses a
 * construct the compiler does not know (then zod decides everything, as before).
 */
export const sessionEventFastParser: FastParser | null = compileOrNull(sessionEventSchema);

/** The compiled parser, or null when the schema uses a construct the compiler does not know. */
function compileOrNull(schema: Parameters<typeof compileFastParser>[0]): FastParser | null {
  try {
    return compileFastParser(schema);
  } catch (err) {
    if (err instanceof UnsupportedSchemaError) return null;
    throw err;
  }
}

const zodVerdict = (parsed: unknown): SessionEventVerdict => sessionEventSchema.safeParse(parsed);

/** The compiled fast path when it can vouch for the value; zod (and its reason) otherwise. */
function fastVerdict(parsed: unknown): SessionEventVerdict {
  const v = sessionEventFastParser === null ? BAIL : sessionEventFastParser(parsed);
  return v === BAIL
    ? sessionEventSchema.safeParse(parsed)
    : { success: true, data: v as z.infer<typeof sessionEventSchema> };
}

function decodeWith(
  verdict: (parsed: unknown) => SessionEventVerdict,
  rec: LogRecord,
  topics: TopicNames,
  maxBytes: number,
  decoded: DecodedValue | undefined,
): SessionRecord | DeadLetter {
  if (rec.value.length > maxBytes) {
    return decodeFailure(
      rec,
      'oversized',
      `event is ${rec.value.length} bytes, over the ${maxBytes}-byte limit`,
    );
  }
  const d = decoded ?? parseJsonValue(rec.value);
  if (!('value' in d)) return decodeFailure(rec, d.code, d.reason);
  const parsed = d.value;
  const res = verdict(parsed);
  if (!res.success) return decodeFailure(rec, 'schema_invalid', describeIssues(res.error), parsed);
  const expected = eventTypeOfTopic(topics, rec.topic);
  if (expected !== res.data.type) {
    return decodeFailure(rec, 'schema_invalid', `a ${res.data.type} event on topic ${rec.topic}`, parsed);
  }
  if (rec.key !== res.data.recommend_session_id) {
    return decodeFailure(
      rec,
      'wrong_key',
      `message key ${JSON.stringify(rec.key)} is not the recommend_session_id ${JSON.stringify(res.data.recommend_session_id)}; A/B/C must be keyed by it to stay co-partitioned`,
      parsed,
    );
  }
  return { topic: rec.topic, partition: rec.partition, offset: rec.offset, event: res.data };
}

/**
 * The decode boundary for A/B/C: size, JSON (or what the serde decoded), schema, topic and key
 * checks. Anything that fails becomes a dead letter carrying the original bytes and where they
 * were read. The schema check takes the fast path compiled from the zod schema for the values it
 * can vouch for and asks zod for the rest, so it accepts, rejects and explains exactly as
 * `decodeSessionRecordZod` does (test/unit/streams/codec/fast-decode.unit.test.ts), only faster.
 */
export function decodeSessionRecord(
  rec: LogRecord,
  topics: TopicNames,
  maxBytes = DEFAULT_MAX_EVENT_BYTES,
  decoded?: DecodedValue,
): SessionRecord | DeadLetter {
  return decodeWith(fastVerdict, rec, topics, maxBytes, decoded);
}

/** The same boundary with zod alone: the reference the fast path is tested and measured against. */
export function decodeSessionRecordZod(
  rec: LogRecord,
  topics: TopicNames,
  maxBytes = DEFAULT_MAX_EVENT_BYTES,
  decoded?: DecodedValue,
): SessionRecord | DeadLetter {
  return decodeWith(zodVerdict, rec, topics, maxBytes, decoded);
}

export function isDeadLetter(x: SessionRecord | DeadLetter): x is DeadLetter {
  return 'code' in x;
}

export function encodeJson(key: string | null, value: unknown): LogMessage {
  return { key, value: Buffer.from(JSON.stringify(value)) };
}

/** H as a message keyed by user_id; `value` is its bytes from a serde (default: plain JSON). */
export function encodeExample(h: TrainingExample, value?: Buffer): LogMessage {
  return {
    key: h.user_id,
    value: value ?? Buffer.from(JSON.stringify(h)),
    headers: { revision: String(h.revision) },
  };
}

/**
 * Length of the Confluent wire-format header (magic byte 0, 4-byte schema id) in front of a
 * Schema Registry JSON Schema message, or 0 for plain JSON (which never starts with a NUL byte).
 */
export function registryHeaderLength(bytes: Buffer): number {
  return bytes.length >= 5 && bytes[0] === 0 ? 5 : 0;
}

/** The fast path compiled from trainingExampleSchema, or null if the schema outgrew the compiler. */
export const trainingExampleFastParser: FastParser | null = compileOrNull(trainingExampleSchema);

type ExampleVerdict = (
  parsed: unknown,
) =>
  | { readonly success: true; readonly data: TrainingExample }
  | { readonly success: false; readonly error: z.ZodError };

const zodExampleVerdict: ExampleVerdict = (parsed) => trainingExampleSchema.safeParse(parsed);

/** Every sink of H decodes every record: the compiled path where it vouches, zod otherwise. */
const fastExampleVerdict: ExampleVerdict = (parsed) => {
  const v = trainingExampleFastParser === null ? BAIL : trainingExampleFastParser(parsed);
  return v === BAIL ? trainingExampleSchema.safeParse(parsed) : { success: true, data: v as TrainingExample };
};

function decodeExampleWith(verdict: ExampleVerdict, rec: LogRecord): TrainingExample | DeadLetter {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rec.value.toString('utf8', registryHeaderLength(rec.value)));
  } catch (err) {
    return decodeFailure(rec, 'malformed_json', `not JSON: ${(err as Error).message}`);
  }
  const res = verdict(parsed);
  return res.success ? res.data : decodeFailure(rec, 'schema_invalid', describeIssues(res.error), parsed);
}

/**
 * H, plain JSON or registry-framed JSON Schema (the processor frames H when a Schema Registry is
 * configured): checked against the schema either way, so every H consumer reads both without a
 * registry client. Accepts, rejects and explains exactly as `decodeExampleZod`
 * (test/unit/streams/codec/fast-decode-h.unit.test.ts), through the compiled fast path.
 */
export function decodeExample(rec: LogRecord): TrainingExample | DeadLetter {
  return decodeExampleWith(fastExampleVerdict, rec);
}

/** The same with zod alone: the reference the fast path is tested and measured against. */
export function decodeExampleZod(rec: LogRecord): TrainingExample | DeadLetter {
  return decodeExampleWith(zodExampleVerdict, rec);
}

/** A dead letter on the wire: the reason, where it came from, and the original bytes or event. */
export function encodeDeadLetter(d: DeadLetter, key: string | null): LogMessage {
  return {
    key,
    value: Buffer.from(JSON.stringify({ ...d, dead_lettered_from: `${d.topic}/${d.partition}@${d.offset}` })),
    headers: { code: d.code },
  };
}

/** Join checkpoint ↔ the metadata string committed next to a Kafka offset. */
export function checkpointMetadata(cp: JoinCheckpoint): string {
  const n = (x: number) => (Number.isFinite(x) ? x : null);
  return JSON.stringify({
    v: 1,
    w: n(cp.watermark),
    m: n(cp.topicMaxTs),
    ...(cp.resumeAt !== undefined && cp.resumeWatermark !== undefined
      ? { r: cp.resumeAt, rw: n(cp.resumeWatermark) }
      : {}),
  });
}

export function checkpointFromCommit(c: {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}): JoinCheckpoint | null {
  if (!c.metadata) return null;
  try {
    const m = JSON.parse(c.metadata) as {
      v?: number;
      w?: number | null;
      m?: number | null;
      r?: number;
      rw?: number | null;
    };
    if (m.v !== 1) return null;
    const num = (x: number | null | undefined) => (typeof x === 'number' ? x : Number.NEGATIVE_INFINITY);
    return {
      topic: c.topic,
      partition: c.partition,
      offset: c.offset,
      watermark: num(m.w),
      topicMaxTs: num(m.m),
      ...(typeof m.r === 'number' ? { resumeAt: m.r, resumeWatermark: num(m.rw) } : {}),
    };
  } catch {
    return null;
  }
}
