/**
 * How event values are turned into bytes and back: plain JSON (the default), or JSON Schema through
 * a Confluent-compatible Schema Registry (`SCHEMA_REGISTRY_URL`, e.g. Apicurio's ccompat API).
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { TopicNames } from '../../schemas/index.ts';
import { jsonSchemaOf } from '../../schemas/registry.ts';
import { type DecodedValue, parseJsonValue, registryHeaderLength } from './session-codec.ts';

export interface EventSerde {
  readonly name: string;
  /** The value bytes of `value` on `topic`. */
  encode(topic: string, value: unknown): Promise<Buffer>;
  /**
   * One result per value, in order. A bad value is a result, never a rejection; a rejection means
   * the decoder itself is unavailable (the registry is down) and the call is worth retrying.
   */
  decodeMany(values: readonly Buffer[]): Promise<DecodedValue[]>;
}

/** Plain JSON, UTF-8: what the processor always did. */
export const jsonSerde: EventSerde = Object.freeze({
  name: 'json',
  encode: async (_topic: string, value: unknown) => Buffer.from(JSON.stringify(value)),
  decodeMany: async (values: readonly Buffer[]) => values.map(parseJsonValue),
});

/** One registry subject: the topic it is for and the JSON Schema registered under it. */
export interface RegistrySubject {
  readonly topic: string;
  readonly subject: string;
  /** The JSON Schema, as a string. */
  readonly schema: string;
}

/**
 * A, B, C and H under `<topic>-value` (Confluent's TopicNameStrategy), with the JSON Schema that
 * `npm run schemas:export` writes. Dead letters stay plain JSON.
 */
export function registrySubjects(topics: TopicNames): RegistrySubject[] {
  const files: [string, string][] = [
    [topics.recommend, 'a-recommend'],
    [topics.paraphrase, 'b-paraphrase'],
    [topics.selection, 'c-selection'],
    [topics.trainingExamples, 'h-training-example'],
  ];
  return files.map(([topic, file]) => ({
    topic,
    subject: `${topic}-value`,
    schema: JSON.stringify(jsonSchemaOf(file)),
  }));
}

export interface RegistrySerdeOptions {
  /** The Confluent-compatible API base, e.g. http://127.0.0.1:18081/apis/ccompat/v7 */
  readonly host: string;
  readonly subjects: readonly RegistrySubject[];
  /** Compatibility rule set on a subject the serde creates (default BACKWARD). */
  readonly compatibility?: COMPATIBILITY;
  /** A ready client (tests); default: one for `host`. */
  readonly registry?: SchemaRegistry;
}

export interface RegistrySerde extends EventSerde {
  /** Registers every subject's schema (idempotent) and caches the ids: topic → schema id. */
  init(): Promise<Record<string, number>>;
}

/**
 * ajv options for the schemas the registry hands out: lenient on keywords and formats it does not
 * know (a producer's schema may use any), since zod checks every event after decoding anyway.
 */
export const REGISTRY_JSON_OPTIONS = { [SchemaType.JSON]: { strict: false, logger: false } } as const;

export function createRegistryClient(host: string): SchemaRegistry {
  return new SchemaRegistry(
    { host, clientId: 'sentencify-stream', retry: { retries: 2 } },
    REGISTRY_JSON_OPTIONS,
  );
}

const errName = (err: unknown) => (err instanceof Error ? err.name : '');
const errStatus = (err: unknown) =>
  err && typeof err === 'object' && 'status' in err && typeof err.status === 'number' ? err.status : null;

/**
 * A registry call failed because of the payload or its schema id (a dead letter), not because
 * the registry could not be asked (worth retrying): HTTP errors other than 404 are the latter.
 */
function decodeFailure(err: unknown, schemaId: number): DecodedValue | null {
  const status = errStatus(err);
  if (status !== null) {
    return status === 404
      ? { code: 'schema_invalid', reason: `schema registry: schema id ${schemaId} is not registered` }
      : null;
  }
  if (err instanceof SyntaxError) {
    return {
      code: 'malformed_json',
      reason: `schema registry: the payload after the header (schema id ${schemaId}) is not JSON: ${err.message}`,
    };
  }
  if (errName(err) === 'ConfluentSchemaRegistryValidationError') {
    const paths = ((err as { paths?: unknown[] }).paths ?? [])
      .slice(0, 5)
      .map((p) => (Array.isArray(p) ? p.join('') : String(p)) || '(root)');
    return {
      code: 'schema_invalid',
      reason: `schema registry: does not match schema id ${schemaId}${paths.length ? ` at ${paths.join(', ')}` : ''}`,
    };
  }
  return {
    code: 'schema_invalid',
    reason: `schema registry: cannot decode with schema id ${schemaId}: ${(err as Error)?.message ?? String(err)}`,
  };
}

/**
 * Registers each subject's schema: with `compatibility` on a new subject; on an existing one
 * under the rule it already has (an Apicurio subject made without a rule reports NONE, and the
 * client refuses to register when the rule differs from the one it was told to expect).
 */
async function registerSubject(
  registry: SchemaRegistry,
  s: RegistrySubject,
  compatibility: COMPATIBILITY,
): Promise<number> {
  const schema = { type: SchemaType.JSON, schema: s.schema } as const;
  try {
    return (await registry.register(schema, { subject: s.subject, compatibility })).id;
  } catch (err) {
    if (errName(err) !== 'ConfluentSchemaRegistryCompatibilityError') throw err;
    const actual = /!= (\w+)\)/.exec((err as Error).message)?.[1];
    const level = Object.values(COMPATIBILITY).find((c) => c === actual) ?? COMPATIBILITY.NONE;
    return (await registry.register(schema, { subject: s.subject, compatibility: level })).id;
  }
}

/**
 * JSON Schema through a Schema Registry. Encoding frames a value with its topic's schema id (the
 * registry client validates it first); topics without a subject stay plain JSON. Decoding: values
 * in the Confluent wire format (magic byte 0) are decoded and validated by the registry, anything
 * else is read as plain JSON, so plain-JSON producers keep working.
 */
export function createRegistrySerde(opts: RegistrySerdeOptions): RegistrySerde {
  const registry = opts.registry ?? createRegistryClient(opts.host);
  const compatibility = opts.compatibility ?? COMPATIBILITY.BACKWARD;
  const byTopic = new Map(opts.subjects.map((s) => [s.topic, s]));
  const ids = new Map<string, Promise<number>>();
  const idFor = (s: RegistrySubject): Promise<number> => {
    let id = ids.get(s.topic);
    if (!id) {
      id = registerSubject(registry, s, compatibility);
      ids.set(s.topic, id);
      id.catch(() => ids.delete(s.topic)); // a failed registration is tried again next time
    }
    return id;
  };
  const decodeOne = async (bytes: Buffer): Promise<DecodedValue> => {
    if (registryHeaderLength(bytes) === 0) {
      return bytes.length > 0 && bytes[0] === 0
        ? { code: 'malformed_json', reason: 'schema registry: shorter than the 5-byte wire-format header' }
        : parseJsonValue(bytes);
    }
    const schemaId = bytes.readInt32BE(1);
    try {
      return { value: await registry.decode(bytes) };
    } catch (err) {
      const failure = decodeFailure(err, schemaId);
      if (failure) return failure;
      throw err;
    }
  };
  return {
    name: `schema-registry(${opts.host})`,
    async init() {
      const out: Record<string, number> = {};
      for (const s of opts.subjects) out[s.topic] = await idFor(s);
      return out;
    },
    async encode(topic, value) {
      const s = byTopic.get(topic);
      if (!s) return Buffer.from(JSON.stringify(value));
      return registry.encode(await idFor(s), value);
    },
    decodeMany: (values) => Promise.all(values.map(decodeOne)),
  };
}
