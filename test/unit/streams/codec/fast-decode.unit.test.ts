/**
 * The fast decode boundary must accept, reject and explain exactly as the zod one does: for every
 * input — random valid A/B/C events (schema examples and synthetic traffic, enriched with every
 * optional field) and random breakages of them — `decodeSessionRecord` (fast path, zod for the
 * rest) and `decodeSessionRecordZod` (zod alone) give deep-equal results with the same key order,
 * dead-letter code and reason included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import a from '../../../../schemas/examples/a-recommend.json' with { type: 'json' };
import b from '../../../../schemas/examples/b-paraphrase.json' with { type: 'json' };
import c from '../../../../schemas/examples/c-selection.json' with { type: 'json' };
import { DEFAULT_TOPICS, sessionEventSchema, topicForEvent } from '../../../../schemas/index.ts';
import { BAIL, compileFastParser, UnsupportedSchemaError } from '../../../../streams/codec/fast-decode.ts';
import {
  type DecodedValue,
  decodeSessionRecord,
  decodeSessionRecordZod,
  parseJsonValue,
  sessionEventFastParser,
} from '../../../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { syntheticTraffic } from '../../../fixtures/synthetic-sessions.ts';
import { emoji, type Json, type Mutation, mutate, mutation } from '../../../helpers/json-mutations.ts';

const synthetic = syntheticTraffic({
  sessions: 60,
  users: 7,
  seed: 5,
  startMs: Date.parse('2026-03-01T00:00:00Z'),
}).events as unknown as Json[];
const bases: Json[] = [a as Json, b as Json, c as Json, ...synthetic];

// The optional parts of A/B/C that the synthetic traffic leaves out, so the generators reach them.
const neighbour = fc.record({
  id: fc.string({ maxLength: 6 }),
  score: fc.double({ noNaN: true, noDefaultInfinity: true }),
  option_key: fc.option(fc.constantFrom('email:weak', 'thesis:strong'), { nil: null }),
  language: fc.constantFrom('ko', 'en'),
});
const enrichment = fc.record(
  {
    doc_id: fc.constantFrom('doc-1', 'd', ''),
    inputs: fc.record({
      neighbours: fc.array(neighbour, { maxLength: 3 }),
      doc_history: fc.dictionary(fc.constantFrom('email:weak', 'thesis:strong', '0'), fc.nat(9), {
        maxKeys: 2,
      }),
      cluster_id: fc.option(fc.nat(7), { nil: null }),
    }),
    prev_sentence: fc.string({ maxLength: 8 }),
    next_sentence: fc.string({ maxLength: 8 }),
    doc_field: fc.constantFrom('report', 'email'),
    reason: fc.string({ maxLength: 8 }),
    final_text: fc.string({ maxLength: 8 }),
  },
  { requiredKeys: [] },
);
// Fields with defaults: present with a valid value, or absent so zod fills them in.
const DEFAULTED = ['epsilon', 'explored', 'profile_version', 'edited'] as const;

function enrich(base: Json, extra: Record<string, Json>, drop: readonly string[]): Json {
  const e = structuredClone(base) as { [k: string]: Json };
  const ctx = e.context as { [k: string]: Json } | undefined;
  const opts = e.options as { [k: string]: Json }[] | undefined;
  for (const [k, v] of Object.entries(extra)) {
    if (k === 'prev_sentence' || k === 'next_sentence' || k === 'doc_field') {
      if (ctx) ctx[k] = v;
    } else if (k === 'reason') {
      if (opts?.[0]) opts[0].reason = v;
    } else if (k === 'final_text') {
      if (e.type === 'selection') e.final_text = v;
    } else if (k === 'inputs' || k === 'doc_id') {
      if (e.type === 'recommend') e[k] = v;
    }
  }
  for (const k of drop) delete e[k];
  return e;
}

type Framing = 'json' | 'decoded' | 'malformed' | 'registry' | 'empty';

interface Case {
  readonly base: Json;
  readonly extra: Record<string, Json>;
  readonly drop: string[];
  readonly mutations: Mutation[];
  readonly keyMode: 'right' | 'wrong' | 'null';
  readonly topicMode: 'right' | 'other' | 'unknown';
  readonly framing: Framing;
  readonly cut: number;
  readonly maxBytes: number | undefined;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  base: fc.constantFrom(...bases),
  extra: enrichment as fc.Arbitrary<Record<string, Json>>,
  drop: fc.subarray([...DEFAULTED]),
  mutations: fc.array(mutation, { minLength: 0, maxLength: 2 }),
  keyMode: fc.constantFrom('right', 'right', 'right', 'right', 'wrong', 'null'),
  topicMode: fc.constantFrom('right', 'right', 'right', 'right', 'other', 'unknown'),
  framing: fc.constantFrom<Framing>(
    'json',
    'json',
    'json',
    'decoded',
    'decoded',
    'malformed',
    'registry',
    'empty',
  ),
  cut: fc.nat(),
  maxBytes: fc.option(fc.integer({ min: 50, max: 4000 }), { nil: undefined, freq: 4 }),
});

function build(k: Case): { rec: LogRecord; decoded: DecodedValue | undefined; event: Json } {
  let event = enrich(k.base, k.extra, k.drop);
  for (const m of k.mutations) event = mutate(event, m);
  const obj = event as { [k: string]: Json };
  const type = typeof obj?.type === 'string' ? obj.type : 'recommend';
  const right = ['recommend', 'paraphrase', 'selection'].includes(type)
    ? topicForEvent(DEFAULT_TOPICS, type as 'recommend')
    : DEFAULT_TOPICS.recommend;
  const topic =
    k.topicMode === 'right'
      ? right
      : k.topicMode === 'other'
        ? right === DEFAULT_TOPICS.selection
          ? DEFAULT_TOPICS.recommend
          : DEFAULT_TOPICS.selection
        : 'somewhere-else';
  const sid = obj?.recommend_session_id;
  const key =
    k.keyMode === 'right' ? (typeof sid === 'string' ? sid : 'k') : k.keyMode === 'wrong' ? 'other' : null;
  let text = JSON.stringify(event);
  let value: Buffer;
  switch (k.framing) {
    case 'malformed':
      text = text.slice(0, k.cut % Math.max(1, text.length)) + (k.cut % 2 ? '' : ',}');
      value = Buffer.from(text);
      break;
    case 'registry':
      value = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from(text)]);
      break;
    case 'empty':
      value = Buffer.alloc(0);
      break;
    default:
      value = Buffer.from(text);
  }
  const rec: LogRecord = { topic, partition: k.cut % 6, offset: k.cut, key, value, timestamp: 0 };
  // 'decoded': what a serde handed over (the value itself, or the registry serde's JSON result)
  const decoded = k.framing === 'decoded' ? parseJsonValue(value) : undefined;
  return { rec, decoded, event };
}

describe('fast decode boundary', () => {
  it('compiles the A/B/C schema (the fast path is on)', () => {
    expect(sessionEventFastParser).not.toBeNull();
  });

  it('gives the zod result, dead-letter code and reason included, for random valid and broken events', () => {
    let valid = 0;
    let fastHits = 0;
    let total = 0;
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(caseArb, (k) => {
        const { rec, decoded, event } = build(k);
        const fast = decodeSessionRecord(rec, DEFAULT_TOPICS, k.maxBytes, decoded);
        const ref = decodeSessionRecordZod(rec, DEFAULT_TOPICS, k.maxBytes, decoded);
        expect(fast).toStrictEqual(ref);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(ref)); // same key order too
        total++;
        if ('code' in ref) codes.set(ref.code, (codes.get(ref.code) ?? 0) + 1);
        else valid++;
        if (sessionEventSchema.safeParse(event).success && sessionEventFastParser!(event) !== BAIL)
          fastHits++;
      }),
      { numRuns: 4000, seed: 20261201 },
    );
    console.log(
      `fast-decode property: ${total} inputs, ${valid} valid, dead letters ${JSON.stringify(Object.fromEntries(codes))}, fast path taken ${fastHits}`,
    );
    // The generators reach both sides and every decode-time dead-letter code.
    expect(valid / total).toBeGreaterThan(0.1);
    for (const code of ['schema_invalid', 'malformed_json', 'oversized', 'wrong_key']) {
      expect(codes.get(code) ?? 0).toBeGreaterThan(20);
    }
    expect(fastHits / total).toBeGreaterThan(0.1);
  });

  it('vouches for every valid event of the workload (no silent fallback to zod)', () => {
    for (const e of bases) expect(sessionEventFastParser!(e)).toStrictEqual(sessionEventSchema.parse(e));
  });

  it.each([
    ['generated code', true],
    ['closures', false],
  ])(
    'with random value-level mutations, the fast parser alone (%s) gives the zod output or bails',
    (_name, codegen) => {
      const parser = compileFastParser(sessionEventSchema, { codegen });
      let vouched = 0;
      fc.assert(
        fc.property(
          fc.constantFrom(...bases),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (base, ms) => {
            let e = base;
            for (const m of ms) e = mutate(e, m);
            const v = parser(e);
            const z = sessionEventSchema.safeParse(e);
            if (v !== BAIL) {
              expect(z.success).toBe(true);
              expect(v).toStrictEqual(z.data);
              expect(JSON.stringify(v)).toBe(JSON.stringify(z.data)); // same key order too
              vouched++;
            } else if (z.success) {
              // it bails on a valid event only where UTF-16 and code-point lengths disagree
              expect(JSON.stringify(e)).toContain(emoji);
            }
          },
        ),
        { numRuns: 3000, seed: 7 },
      );
      expect(vouched).toBeGreaterThan(300);
    },
  );

  it('refuses constructs it cannot mirror instead of guessing', () => {
    const unsupported = [
      z.string().refine((s) => s.length > 2),
      z.string().transform((s) => s.length),
      z.string().email(),
      z.coerce.number(),
      z.looseObject({ a: z.string() }),
      z.object({ a: z.string() }).check(() => {}),
      z.number().multipleOf(2),
    ];
    for (const s of unsupported) {
      expect(() => compileFastParser(s, { codegen: true })).toThrow(UnsupportedSchemaError);
      expect(() => compileFastParser(s, { codegen: false })).toThrow(UnsupportedSchemaError);
    }
  });

  it('follows zod on unions (first passing option), strict objects, defaults and code-point lengths', () => {
    const s = z.object({
      u: z.union([z.strictObject({ a: z.string() }), z.object({ a: z.string(), b: z.number() })]),
      n: z.number().int().min(0).default(3),
      t: z.string().min(2).max(3),
    });
    for (const codegen of [true, false]) {
      const f = compileFastParser(s, { codegen });
      const inputs: unknown[] = [
        { u: { a: 'x' }, t: 'abc' },
        { u: { a: 'x', b: 1 }, t: 'ab', extra: 1 },
        { u: { a: 'x', b: 'no' }, t: 'ab' },
        { u: { a: 'x' }, n: 1.5, t: 'ab' },
        { u: { a: 'x' }, t: `${emoji}${emoji}` },
        { u: { a: 'x' }, t: emoji },
        { u: { a: 'x' }, t: `${emoji}${emoji}${emoji}` },
      ];
      for (const x of inputs) {
        const v = f(x);
        const r = s.safeParse(x);
        if (v !== BAIL) expect(JSON.stringify(v)).toBe(JSON.stringify(r.data));
        // it bails on a valid input only where UTF-16 and code-point lengths disagree
        else if (r.success) expect(JSON.stringify(x)).toContain(emoji);
      }
    }
  });
});
