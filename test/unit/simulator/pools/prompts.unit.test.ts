import { describe, expect, it } from 'vitest';
import type { CorporateRow } from '../../../../schemas/index.ts';
import { generateCorporateSample } from '../../../../simulator/corporate/generate.ts';
import { normalisePrompt, promptPool } from '../../../../simulator/pools/prompts.ts';

let seq = 0;
const row = (
  user_prompt: string,
  category: string,
  intensity: 'weak' | 'moderate' | 'strong',
  accepted = true,
  language = 'en',
): CorporateRow => ({
  user_id: `u${seq++}`,
  ts: '2025-03-01T00:00:00.000Z',
  category,
  intensity,
  user_prompt,
  accepted,
  language,
});

describe('promptPool', () => {
  it('normalises case, whitespace and trailing punctuation', () => {
    expect(normalisePrompt('  Make it   SHORTER. ')).toBe('make it shorter');
    expect(normalisePrompt('정중하게!!')).toBe('정중하게');
    expect(normalisePrompt('요약해줘 ~')).toBe('요약해줘');
  });

  it('counts requests, ignores empty ones and reports the options each co-occurs with', () => {
    const rows = [
      row('shorter please', 'general', 'weak'),
      row('Shorter  please.', 'general', 'weak', false),
      row('shorter please', 'email', 'moderate'),
      row('shorter please', 'general', 'weak'),
      row('정중하게', 'email', 'moderate', true, 'ko'),
      row('정중하게', 'customer_service', 'moderate', false, 'ko'),
      row('', 'thesis', 'strong'),
      row('   ', 'thesis', 'strong'),
      row('academic', 'thesis', 'strong'),
    ];
    const pool = promptPool(rows);
    expect(pool.map((p) => [p.key, p.count])).toEqual([
      ['shorter please', 4],
      ['정중하게', 2],
      ['academic', 1],
    ]);
    const [shorter, polite] = pool;
    expect(shorter!.prompt).toBe('shorter please');
    expect(shorter!.share).toBeCloseTo(4 / 7, 4);
    expect(shorter!.acceptRate).toBe(0.75);
    expect(shorter!.options).toEqual({ 'general:weak': 0.75, 'email:moderate': 0.25 });
    expect(Object.keys(shorter!.options)).toEqual(['general:weak', 'email:moderate']);
    expect(shorter!.topOption).toBe('general:weak');
    expect(polite!.languages).toEqual({ ko: 1 });
    expect(polite!.options).toEqual({ 'customer_service:moderate': 0.5, 'email:moderate': 0.5 });
    expect(promptPool(rows, { top: 1 })).toHaveLength(1);
    expect(promptPool(rows, { minCount: 2 })).toHaveLength(2);
  });

  it("finds each planted type's requests in a generated sample", () => {
    const { rows } = generateCorporateSample({ users: 80, seed: 9 });
    const pool = promptPool(rows, { top: 50 });
    const keys = pool.map((p) => p.key);
    expect(keys).toContain('정중하게');
    expect(keys).toContain('학술적인 톤으로 변경해줘');
    const total = pool.reduce((s, p) => s + p.count, 0);
    expect(total).toBeLessThanOrEqual(rows.filter((r) => r.user_prompt.trim() !== '').length);
    for (let i = 1; i < pool.length; i++) expect(pool[i - 1]!.count).toBeGreaterThanOrEqual(pool[i]!.count);
  });
});
