import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recommendEventSchema, trainingExampleSchema } from '../../../../schemas/index.ts';
import { decisionsOfLogs, readRunLogs, writeRunLogs } from '../../../../simulator/offline/wheel-logs.ts';

const read = (f: string) =>
  JSON.parse(readFileSync(new URL(`../../../../schemas/examples/${f}`, import.meta.url), 'utf8'));
const a = recommendEventSchema.parse(read('a-recommend.json'));
const h = trainingExampleSchema.parse(read('h-training-example.json'));
const dir = mkdtempSync(join(tmpdir(), 'sentencify-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run logs as JSON lines', () => {
  it('round-trip A and H, and the decisions take ε from the A of the same session', () => {
    const a2 = { ...a, recommend_session_id: h.recommend_session_id, epsilon: 0.2 };
    const p = writeRunLogs(dir, 'run', { recommends: [a2], examples: [h, { ...h, revision: 2 }] });
    const logs = readRunLogs(p);
    expect(logs.recommends).toEqual([a2]);
    expect(logs.examples).toHaveLength(2);
    const d = decisionsOfLogs(logs);
    expect(d).toHaveLength(1);
    expect(d[0]!.epsilon).toBe(0.2);
    // Without the A, ε comes from the propensities (1 − the largest).
    expect(decisionsOfLogs({ recommends: [], examples: [h] })[0]!.epsilon).toBeCloseTo(0.04, 12);
  });

  it('names the file and line of a record that does not parse', () => {
    const f = join(dir, 'bad.h.jsonl');
    writeFileSync(f, `${JSON.stringify(h)}\n{"type":"training_example"}\n`);
    expect(() => readRunLogs({ h: f })).toThrow(`${f}:2: not a valid record`);
    writeFileSync(f, 'not json\n');
    expect(() => readRunLogs({ h: f })).toThrow(`${f}:1: not JSON`);
  });
});
