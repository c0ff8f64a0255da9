import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  allOptions,
  DEFAULT_TOPICS,
  deadLetterSchema,
  optionKey,
  paraphraseEventSchema,
  parseOptionKey,
  recommendEventSchema,
  selectionEventSchema,
} from '../../../schemas/index.ts';
import { SCHEMA_FILES } from '../../../schemas/registry.ts';
import { encodeDeadLetter } from '../../../streams/codec/session-codec.ts';

const EXAMPLES = join(import.meta.dirname, '../../../schemas/examples');
const load = (f: string) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Record<string, unknown>;

describe('schemas', () => {
  it('has one valid example per schema, named by its letter', () => {
    const files = readdirSync(EXAMPLES).sort();
    expect(files).toEqual(
      Object.keys(SCHEMA_FILES)
        .map((n) => `${n}.json`)
        .sort(),
    );
    for (const [name, { schema }] of Object.entries(SCHEMA_FILES)) {
      const res = schema.safeParse(load(`${name}.json`));
      expect(res.success, `${name}: ${res.error?.message}`).toBe(true);
    }
  });

  it('exports JSON Schema that accepts the examples and rejects broken events', () => {
    const out = mkdtempSync(join(tmpdir(), 'schemas-'));
    execFileSync('npx', ['tsx', 'schemas/export.ts', '--out', out], {
      cwd: join(import.meta.dirname, '../../..'),
    });
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('date-time', true);
    for (const name of Object.keys(SCHEMA_FILES)) {
      const schema = JSON.parse(readFileSync(join(out, `${name}.schema.json`), 'utf8'));
      const validate = ajv.compile(schema);
      expect(validate(load(`${name}.json`)), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    const a = JSON.parse(readFileSync(join(out, 'a-recommend.schema.json'), 'utf8'));
    const validateA = ajv.compile(a);
    expect(validateA({ ...load('a-recommend.json'), options: [] })).toBe(false);
    rmSync(out, { recursive: true, force: true });
  });

  it('every event carries the envelope, and A/B/C the session id', () => {
    for (const f of ['a-recommend.json', 'b-paraphrase.json', 'c-selection.json']) {
      const e = load(f);
      for (const k of ['event_id', 'schema_version', 'ts', 'user_id', 'recommend_session_id'])
        expect(e).toHaveProperty(k);
    }
  });

  it('names the field that is wrong', () => {
    const bad = { ...load('c-selection.json'), ts: '23/11/2026', chosen_index: -1 };
    const res = selectionEventSchema.safeParse(bad);
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['chosen_index', 'ts']);
    const noTz = recommendEventSchema.safeParse({ ...load('a-recommend.json'), ts: '2026-11-23T09:15:00' });
    expect(noTz.success).toBe(false);
  });

  it('takes a paraphrase request as an option or a free style request, not both', () => {
    const b = load('b-paraphrase.json');
    expect(paraphraseEventSchema.safeParse({ ...b, request: { style_request: '정중하게' } }).success).toBe(
      true,
    );
    expect(
      paraphraseEventSchema.safeParse({
        ...b,
        request: { category: 'email', intensity: 'weak', style_request: 'x' },
      }).success,
    ).toBe(false);
    expect(paraphraseEventSchema.safeParse({ ...b, request: { category: 'email' } }).success).toBe(false);
  });

  it('describes what encodeDeadLetter writes, a sink rejection included', () => {
    const wire = (d: Parameters<typeof encodeDeadLetter>[0]) =>
      JSON.parse(encodeDeadLetter(d, null).value.toString('utf8')) as unknown;
    const where = { topic: 'sentencify.training-examples', partition: 2, offset: 41 };
    const rejected = wire({
      ...where,
      code: 'sink_rejected',
      reason: 'mapper_parsing_exception: field [context.text] too long',
      sink: 'elasticsearch',
      event_id: 'h:rs-1:2',
      recommend_session_id: 'rs-1',
      raw: '{"type":"training_example"}',
    });
    expect(deadLetterSchema.parse(rejected)).toMatchObject({
      code: 'sink_rejected',
      sink: 'elasticsearch',
      dead_lettered_from: 'sentencify.training-examples/2@41',
    });
    const c = load('c-selection.json');
    const joined = wire({
      ...where,
      code: 'beyond_grace',
      reason: 'late',
      event_id: c.event_id as string,
      recommend_session_id: c.recommend_session_id as string,
      event: selectionEventSchema.parse(c),
    });
    expect(deadLetterSchema.safeParse(joined).success).toBe(true);
    expect(deadLetterSchema.safeParse({ ...(joined as object), code: 'no_such_code' }).success).toBe(false);
    expect(deadLetterSchema.safeParse({ ...(joined as object), dead_lettered_from: undefined }).success).toBe(
      false,
    );
  });

  it('has the default vocabulary and topic names', () => {
    expect(allOptions()).toHaveLength(21);
    expect(parseOptionKey(optionKey({ category: 'customer_service', intensity: 'strong' }))).toEqual({
      category: 'customer_service',
      intensity: 'strong',
    });
    expect(DEFAULT_TOPICS).toEqual({
      recommend: 'sentencify.a',
      paraphrase: 'sentencify.b',
      selection: 'sentencify.c',
      trainingExamples: 'sentencify.training-examples',
      deadLetter: 'sentencify.dead-letter',
      erasure: 'sentencify.erasure',
    });
  });
});
