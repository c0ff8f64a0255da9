import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPICS, type SessionEvent, topicForEvent } from '../../../../schemas/index.ts';
import {
  createRegistrySerde,
  jsonSerde,
  REGISTRY_JSON_OPTIONS,
  registrySubjects,
} from '../../../../streams/codec/serde.ts';
import { decodeExample } from '../../../../streams/codec/session-codec.ts';
import { startTopology } from '../../../../streams/wiring.ts';
import { embeddedWheel, TEST_CFG } from '../../../helpers/embedded-wheel.ts';
import { mkA, mkB, mkC } from '../../../helpers/events.ts';

const named = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name }, extra);

/**
 * A stand-in for SchemaRegistry with its wire format (magic byte 0, 4-byte id, JSON): ids by
 * subject; `decode` knows only the ids it handed out and checks that the value is an object.
 */
function fakeRegistry(opts: { existingRule?: string } = {}) {
  const ids = new Map<string, number>();
  const calls: string[] = [];
  const frame = (id: number, v: unknown) => {
    const h = Buffer.alloc(5);
    h.writeInt32BE(id, 1);
    return Buffer.concat([h, Buffer.from(JSON.stringify(v))]);
  };
  const registry = {
    async register(_s: unknown, o: { subject: string; compatibility: string }) {
      calls.push(`register ${o.subject} ${o.compatibility}`);
      if (opts.existingRule && o.compatibility !== opts.existingRule)
        throw named(
          'ConfluentSchemaRegistryCompatibilityError',
          `Compatibility does not match the configuration (${o.compatibility} != ${opts.existingRule})`,
        );
      if (!ids.has(o.subject)) ids.set(o.subject, ids.size + 1);
      return { id: ids.get(o.subject)! };
    },
    async encode(id: number, v: unknown) {
      return frame(id, v);
    },
    async decode(buf: Buffer) {
      const id = buf.readInt32BE(1);
      if (id === 500)
        throw Object.assign(new Error('Error, status 400: connect ECONNREFUSED'), { status: 400 });
      if (![...ids.values()].includes(id)) throw Object.assign(new Error('No content'), { status: 404 });
      const v = JSON.parse(buf.subarray(5).toString());
      if (typeof v !== 'object' || v === null || !('type' in v))
        throw named('ConfluentSchemaRegistryValidationError', 'invalid payload', { paths: [['/type']] });
      return v;
    },
  };
  return { registry: registry as unknown as SchemaRegistry, calls, frame };
}

const serdeWith = (fake: ReturnType<typeof fakeRegistry>) =>
  createRegistrySerde({
    host: 'http://fake',
    subjects: registrySubjects(DEFAULT_TOPICS),
    registry: fake.registry,
  });

describe('jsonSerde', () => {
  it('is plain JSON both ways', async () => {
    const bytes = await jsonSerde.encode('t', { a: 1 });
    expect(bytes.toString()).toBe('{"a":1}');
    expect(await jsonSerde.decodeMany([bytes, Buffer.from('{"a":')])).toEqual([
      { value: { a: 1 } },
      { code: 'malformed_json', reason: expect.stringMatching(/^not JSON/) },
    ]);
  });
});

describe('registrySubjects', () => {
  it('names A, B, C and H <topic>-value with schemas the registry client compiles and the examples pass', () => {
    const subjects = registrySubjects(DEFAULT_TOPICS);
    expect(subjects.map((s) => s.subject)).toEqual([
      'sentencify.a-value',
      'sentencify.b-value',
      'sentencify.c-value',
      'sentencify.training-examples-value',
    ]);
    // The ajv the registry client bundles, with the options the serde gives it.
    const req = createRequire(createRequire(import.meta.url).resolve('@kafkajs/confluent-schema-registry'));
    const Ajv = req('ajv').default;
    const examples = ['a-recommend', 'b-paraphrase', 'c-selection', 'h-training-example'];
    subjects.forEach((s, i) => {
      const validate = new Ajv(REGISTRY_JSON_OPTIONS.JSON).compile(JSON.parse(s.schema));
      const example = JSON.parse(
        readFileSync(join(import.meta.dirname, `../../../../schemas/examples/${examples[i]}.json`), 'utf8'),
      );
      expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    });
  });
});

describe('createRegistrySerde', () => {
  it('registers each subject once, with BACKWARD on a new subject', async () => {
    const fake = fakeRegistry();
    const serde = serdeWith(fake);
    const ids = await serde.init();
    expect(ids[DEFAULT_TOPICS.recommend]).toBe(1);
    await serde.encode(DEFAULT_TOPICS.recommend, { type: 'recommend' });
    expect(fake.calls).toHaveLength(4);
    expect(fake.calls[0]).toBe('register sentencify.a-value BACKWARD');
  });

  it('registers under the rule an existing subject already has (Apicurio: no rule reads as NONE)', async () => {
    const fake = fakeRegistry({ existingRule: 'NONE' });
    await serdeWith(fake).init();
    expect(fake.calls.slice(0, 2)).toEqual([
      'register sentencify.a-value BACKWARD',
      'register sentencify.a-value NONE',
    ]);
  });

  it('frames registered topics, leaves others plain JSON', async () => {
    const serde = serdeWith(fakeRegistry());
    await serde.init();
    const framed = await serde.encode(DEFAULT_TOPICS.trainingExamples, { x: 1 });
    expect(framed[0]).toBe(0);
    expect(framed.readInt32BE(1)).toBe(4);
    expect((await serde.encode(DEFAULT_TOPICS.deadLetter, { x: 1 })).toString()).toBe('{"x":1}');
  });

  it('decodes framed values with the registry, anything else as JSON, failures as reasons', async () => {
    const fake = fakeRegistry();
    const serde = serdeWith(fake);
    await serde.init();
    const got = await serde.decodeMany([
      fake.frame(1, { type: 'recommend' }),
      Buffer.from('{"type":"plain"}'),
      fake.frame(1, { nope: true }),
      Buffer.concat([fake.frame(1, {}).subarray(0, 5), Buffer.from('{"type":')]),
      fake.frame(77, { type: 'recommend' }),
      Buffer.from([0, 0, 1]),
    ]);
    expect(got[0]).toEqual({ value: { type: 'recommend' } });
    expect(got[1]).toEqual({ value: { type: 'plain' } });
    expect(got[2]).toEqual({
      code: 'schema_invalid',
      reason: 'schema registry: does not match schema id 1 at /type',
    });
    expect(got[3]).toMatchObject({
      code: 'malformed_json',
      reason: expect.stringMatching(/schema id 1\) is not JSON/),
    });
    expect(got[4]).toEqual({
      code: 'schema_invalid',
      reason: 'schema registry: schema id 77 is not registered',
    });
    expect(got[5]).toMatchObject({ code: 'malformed_json', reason: expect.stringMatching(/5-byte/) });
  });

  it('rejects (to be retried) when the registry cannot be asked', async () => {
    const fake = fakeRegistry();
    await expect(serdeWith(fake).decodeMany([fake.frame(500, {})])).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the join with a registry serde', () => {
  it('joins framed and plain sessions, frames H, dead-letters broken framed events with a reason', async () => {
    const w = await embeddedWheel();
    const fake = fakeRegistry();
    const serde = serdeWith(fake);
    await serde.init();
    const framed: SessionEvent[] = [mkA('s1', 'u1', 0), mkB('s1', 'u1', 1), mkC('s1', 'u1', 2)];
    for (const e of framed) {
      const value = await serde.encode(topicForEvent(DEFAULT_TOPICS, e.type), e);
      w.appendRaw(topicForEvent(DEFAULT_TOPICS, e.type), e.recommend_session_id, value);
    }
    w.append([mkA('s2', 'u2', 0), mkC('s2', 'u2', 3)]);
    w.appendRaw(DEFAULT_TOPICS.selection, 's3', fake.frame(3, { broken: true }));
    w.appendRaw(DEFAULT_TOPICS.selection, 's4', fake.frame(42, mkC('s4', 'u4', 1)));
    const topology = startTopology({ ...w.deps, serde }, TEST_CFG, ['join', 'profiles']);
    await w.quiet(20_000, true);
    await topology.stop();
    const h = w.log.read(DEFAULT_TOPICS.trainingExamples);
    expect(h.length).toBeGreaterThan(0);
    expect(h.every((r) => r.value[0] === 0)).toBe(true);
    const sessions = new Set(
      h.map((r) => {
        const x = decodeExample(r);
        if ('code' in x) throw new Error(x.reason);
        return x.recommend_session_id;
      }),
    );
    expect(sessions).toEqual(new Set(['s1', 's2']));
    expect(w.profileSnapshot().has('u1')).toBe(true);
    const dead = w.deadLetters();
    expect(dead.map((d) => [d.code, d.reason]).sort()).toEqual([
      ['schema_invalid', 'schema registry: does not match schema id 3 at /type'],
      ['schema_invalid', 'schema registry: schema id 42 is not registered'],
    ]);
    expect(topology.join!.stats.deadLettersByCode).toEqual({ schema_invalid: 2 });
  });
});
