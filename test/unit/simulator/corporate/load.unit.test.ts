import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCorporateFile, parseCorporateText } from '../../../../simulator/corporate/load.ts';

const good = (over: Record<string, unknown> = {}) => ({
  user_id: 'u1',
  ts: '2025-03-14T02:41:07Z',
  category: 'email',
  intensity: 'moderate',
  user_prompt: '정중하게',
  accepted: true,
  text: '내일 회의 참석 부탁드립니다.',
  language: 'ko',
  company: 'acme',
  ...over,
});

describe('parseCorporateText', () => {
  it('reads JSON Lines, keeps the good rows and names the field of every bad one', () => {
    const lines = [
      JSON.stringify(good()),
      '',
      JSON.stringify(good({ user_id: 'u2', accepted: 'yes' })),
      JSON.stringify(good({ intensity: 'extreme' })),
      '{"user_id": "u3", "ts": ',
      JSON.stringify(good({ user_id: 'u4', language: 'en', user_prompt: undefined })),
      '42',
      JSON.stringify({ user_id: 'u5', ts: '2025-03-14 02:41', category: 'email', intensity: 'weak' }),
    ];
    const res = parseCorporateText(lines.join('\n'), 'export.jsonl');
    expect(res.rows.map((r) => r.user_id)).toEqual(['u1', 'u4']);
    expect(res.rows[1]!.user_prompt).toBe('');
    expect(res.rejected.map((r) => r.line)).toEqual([3, 4, 5, 7, 8]);
    expect(res.rejected.map((r) => r.record)).toEqual([2, 3, 4, 6, 7]);
    expect(res.rejected[0]!.reason).toMatch(/^accepted: expected boolean/);
    expect(res.rejected[1]!.reason).toMatch(/^intensity: /);
    expect(res.rejected[2]!.reason).toMatch(/^not valid JSON/);
    expect(res.rejected[3]!.reason).toMatch(/not a JSON object/);
    expect(res.rejected[4]!.reason).toContain('ts: an ISO-8601 UTC time');
    expect(res.rejected[4]!.reason).toContain('accepted: missing (expected boolean)');
    expect(res.report).toMatchObject({
      source: 'export.jsonl',
      format: 'jsonl',
      records: 7,
      accepted: 2,
      rejected: 5,
      users: 2,
      languages: { ko: 1, en: 1 },
    });
    expect(res.report.rejectedByField).toMatchObject({
      accepted: 2,
      intensity: 1,
      ts: 1,
      '(json)': 1,
      '(row)': 1,
    });
  });

  it('reads a pretty-printed JSON array and reports the line where a bad row starts', () => {
    const rows = [good(), good({ user_id: 'u2', category: 'Not A Slug' }), good({ user_id: 'u3' })];
    const text = JSON.stringify(rows, null, 2);
    const res = parseCorporateText(text);
    expect(res.report.format).toBe('json');
    expect(res.rows.map((r) => r.user_id)).toEqual(['u1', 'u3']);
    expect(res.rejected).toHaveLength(1);
    const line = text.split('\n').findIndex((l) => l.includes('"u2"'));
    // The row's "{" sits on the line before its first field.
    expect(res.rejected[0]!.line).toBe(line);
    expect(res.rejected[0]!.record).toBe(2);
    expect(res.rejected[0]!.reason).toMatch(/^category: /);
  });

  it('detects the format by content, not by name, and unwraps { "data": [...] }', () => {
    const arr = parseCorporateText(`  \n[${JSON.stringify(good())}]`, 'rows.jsonl');
    expect(arr.report.format).toBe('json');
    expect(arr.rows).toHaveLength(1);
    const wrapped = parseCorporateText(
      JSON.stringify({ exported: '2025-04', data: [good(), good({ accepted: 1 })] }, null, 1),
    );
    expect(wrapped.report.format).toBe('json-wrapped');
    expect(wrapped.rows).toHaveLength(1);
    expect(wrapped.rejected[0]).toMatchObject({ record: 2 });
    expect(wrapped.rejected[0]!.line).toBeGreaterThan(1);
    const single = parseCorporateText(JSON.stringify(good(), null, 2));
    expect(single.rows).toHaveLength(1);
  });

  it('returns an unreadable JSON array as one rejection instead of throwing', () => {
    const res = parseCorporateText(`[\n${JSON.stringify(good())},\n{"user_id": }\n]`);
    expect(res.rows).toEqual([]);
    expect(res.rejected).toHaveLength(1);
    expect(res.rejected[0]!.reason).toMatch(/not valid JSON/);
    expect(parseCorporateText('').report).toMatchObject({ records: 0, accepted: 0, rejected: 0 });
  });

  it('flags valid categories outside the default vocabulary without dropping them', () => {
    const res = parseCorporateText(JSON.stringify(good({ category: 'legal' })));
    expect(res.rows).toHaveLength(1);
    expect(res.report.unknownCategories).toEqual(['legal']);
  });

  it('accepts the schema example row', () => {
    const example = readFileSync(
      join(import.meta.dirname, '../../../../schemas/examples/d-corporate-row.json'),
      'utf8',
    );
    expect(parseCorporateText(example).rows).toHaveLength(1);
  });

  it('never throws, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const res = parseCorporateText(s);
        expect(res.rows.length + res.rejected.length).toBe(res.report.records);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.boolean(), (values, asArray) => {
        const text = asArray ? JSON.stringify(values) : values.map((v) => JSON.stringify(v)).join('\n');
        const res = parseCorporateText(text);
        expect(res.rows.length + res.rejected.length).toBe(res.report.records);
      }),
      { numRuns: 200 },
    );
  });

  it('reads a file through the thin wrapper', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corp-'));
    const path = join(dir, 'export.txt');
    writeFileSync(path, `${JSON.stringify(good())}\n${JSON.stringify(good({ user_id: 'u2' }))}\n`);
    const res = await loadCorporateFile(path);
    expect(res.report).toMatchObject({ source: path, format: 'jsonl', accepted: 2, users: 2 });
    rmSync(dir, { recursive: true, force: true });
  });
});
