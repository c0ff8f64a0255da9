/**
 * Every sink of H decodes every record, so H has the compiled fast path too; it must accept,
 * reject and explain exactly as zod does. For random inputs — the H the join makes of synthetic
 * traffic (every funnel, revisions, negatives) and the schema example, and random breakages of
 * them, in plain and registry framing and cut short — `decodeExample` (fast path, zod for the
 * rest) and `decodeExampleZod` (zod alone) give deep-equal results with the same key order,
 * dead-letter code and reason included.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import h from '../../../../schemas/examples/h-training-example.json' with { type: 'json' };
import { trainingExampleSchema } from '../../../../schemas/index.ts';
import { BAIL } from '../../../../streams/codec/fast-decode.ts';
import {
  decodeExample,
  decodeExampleZod,
  trainingExampleFastParser,
} from '../../../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../../../streams/log/event-log.ts';
import { syntheticTraffic } from '../../../fixtures/synthetic-sessions.ts';
import { embeddedWheel } from '../../../helpers/embedded-wheel.ts';
import { type Json, mutate, mutationOf, oddValue } from '../../../helpers/json-mutations.ts';

// Values H's own fields take (or nearly do), beside the generic odd values.
const hValues: fc.Arbitrary<Json> = fc.oneof(
  oddValue,
  fc.constantFrom<Json>(
    'ABC',
    'AC',
    'AB',
    'A',
    'BC',
    'C',
    'complete',
    'window',
    'grace',
    'timeout',
    'ko',
    'en',
  ),
  fc.constantFrom<Json>(
    { text: 'x', language: 'ko' },
    { category: 'email', intensity: 'weak', rank: 1, score: 0.5 },
    { vec: 0.1, doc: 0.2, user: 0.3, cluster: 0.4 },
  ),
);
const mutation = mutationOf(hValues);

let bases: Json[] = [];

beforeAll(async () => {
  // H as the topology makes it: the embedded join over synthetic sessions of every pattern.
  const w = await embeddedWheel();
  const start = Date.parse('2026-03-01T00:00:00Z');
  w.setClock(start);
  w.append(syntheticTraffic({ sessions: 80, users: 9, seed: 11, startMs: start }).events);
  const p = w.start();
  await w.quiet(30_000, true);
  await p.topology.stop();
  bases = [h as Json, ...([...w.examplesById().values()] as Json[])];
}, 60_000);

type Framing = 'json' | 'registry' | 'malformed' | 'empty';

function record(value: Json, framing: Framing, cut: number): LogRecord {
  const text = JSON.stringify(value);
  const bytes =
    framing === 'registry'
      ? Buffer.concat([Buffer.from([0, 0, 0, 0, 3]), Buffer.from(text)])
      : framing === 'malformed'
        ? Buffer.from(text.slice(0, cut % Math.max(1, text.length)))
        : framing === 'empty'
          ? Buffer.alloc(0)
          : Buffer.from(text);
  return { topic: 'h', partition: cut % 6, offset: cut, key: 'user', value: bytes, timestamp: 0 };
}

describe('fast decode boundary for H', () => {
  it('compiles the H schema (the fast path is on) and the join made H of several funnels', () => {
    expect(trainingExampleFastParser).not.toBeNull();
    const funnels = new Set(bases.map((x) => (x as { funnel?: string }).funnel));
    expect(funnels.size).toBeGreaterThan(2);
  });

  it('vouches for every H the join makes (no silent fallback to zod)', () => {
    for (const x of bases)
      expect(trainingExampleFastParser!(x)).toStrictEqual(trainingExampleSchema.parse(x));
  });

  it('gives the zod result, dead-letter code and reason included, for random valid and broken H', () => {
    let valid = 0;
    let fastHits = 0;
    let total = 0;
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(mutation, { minLength: 0, maxLength: 3 }),
        fc.constantFrom<Framing>('json', 'json', 'json', 'json', 'registry', 'malformed', 'empty'),
        fc.nat(),
        (base, ms, framing, cut) => {
          let value = base;
          for (const m of ms) value = mutate(value, m);
          const rec = record(value, framing, cut);
          const fast = decodeExample(rec);
          const ref = decodeExampleZod(rec);
          expect(fast).toStrictEqual(ref);
          expect(JSON.stringify(fast)).toBe(JSON.stringify(ref)); // same key order too
          total++;
          if ('code' in ref) codes.set(String(ref.code), (codes.get(String(ref.code)) ?? 0) + 1);
          else valid++;
          if (
            framing !== 'malformed' &&
            framing !== 'empty' &&
            trainingExampleFastParser!(JSON.parse(JSON.stringify(value))) !== BAIL
          )
            fastHits++;
        },
      ),
      { numRuns: 3000, seed: 20261202 },
    );
    console.log(
      `fast-decode H property: ${total} inputs, ${valid} valid, dead letters ${JSON.stringify(Object.fromEntries(codes))}, fast path taken ${fastHits}`,
    );
    // The generators reach both sides.
    expect(valid / total).toBeGreaterThan(0.2);
    expect(codes.get('schema_invalid') ?? 0).toBeGreaterThan(200);
    expect(codes.get('malformed_json') ?? 0).toBeGreaterThan(100);
    expect(fastHits / total).toBeGreaterThan(0.2);
  });
});
