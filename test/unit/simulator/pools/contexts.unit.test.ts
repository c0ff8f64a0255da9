import { statSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATEGORIES } from '../../../../schemas/index.ts';
import { composeContexts, resolveParticles } from '../../../../simulator/pools/context-fragments.ts';
import {
  ContextPoolError,
  DEFAULT_CONTEXTS_PATH,
  loadContextPool,
  parseContextCsv,
} from '../../../../simulator/pools/contexts.ts';
import { formatCsv, parseCsv } from '../../../../simulator/pools/csv.ts';

const HANGUL = /[가-힣]/;
const HEADER = 'id,category,language,text\n';

describe('context pool', () => {
  const pool = loadContextPool();

  it('ships ≥ 200 sentences per default category, in Korean and English, with unique ids and texts', () => {
    expect(pool.length).toBeGreaterThanOrEqual(1400);
    expect(statSync(DEFAULT_CONTEXTS_PATH).size).toBeLessThan(400_000);
    for (const category of DEFAULT_CATEGORIES) {
      const rows = pool.filter((c) => c.category === category);
      expect(rows.length, category).toBeGreaterThanOrEqual(200);
      const ko = rows.filter((c) => c.language === 'ko').length;
      expect(ko / rows.length, category).toBeGreaterThan(0.35);
      expect(ko / rows.length, category).toBeLessThan(0.65);
    }
    expect(new Set(pool.map((c) => c.id)).size).toBe(pool.length);
    expect(new Set(pool.map((c) => c.text)).size).toBe(pool.length);
    for (const c of pool) expect(HANGUL.test(c.text), c.id).toBe(c.language === 'ko');
  });

  it('is the file the sentence bank composes (regenerate with simulator/pools/build-contexts.ts)', () => {
    expect(composeContexts()).toEqual(pool);
  });

  it('varies sentence shape: no opening word starts a quarter of a category and language', () => {
    for (const category of DEFAULT_CATEGORIES) {
      for (const language of ['en', 'ko']) {
        const rows = pool.filter((c) => c.category === category && c.language === language);
        const first = new Map<string, number>();
        for (const r of rows) {
          const w = r.text.split(/[\s,]/)[0]!;
          first.set(w, (first.get(w) ?? 0) + 1);
        }
        const top = Math.max(...first.values());
        expect(top / rows.length, `${category}/${language}`).toBeLessThan(0.25);
      }
    }
  });

  it('parses quoted commas, quotes and line breaks', () => {
    const text = `${HEADER}a1,email,en,"Hi, ""all""\nsee below"\na2,general,ko,안녕\n`;
    expect(parseContextCsv(text)).toEqual([
      { id: 'a1', category: 'email', language: 'en', text: 'Hi, "all"\nsee below' },
      { id: 'a2', category: 'general', language: 'ko', text: '안녕' },
    ]);
  });

  it('names every malformed line', () => {
    const text = `${HEADER}a1,email,en,ok\na2,emial,en,typo\na3,email,kr,bad lang\na1,email,en,dup\na5,email,en,too,many\na6,email,en,\n`;
    try {
      parseContextCsv(text, { source: 'pool.csv' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ContextPoolError);
      const problems = (e as ContextPoolError).problems;
      expect(problems).toHaveLength(5);
      expect(problems[0]).toMatch(/^pool\.csv line 3: category "emial" is not in the vocabulary/);
      expect(problems[1]).toMatch(/line 4: language "kr"/);
      expect(problems[2]).toMatch(/line 5: id "a1" repeats line 2/);
      expect(problems[3]).toMatch(/line 6: 5 fields, the header has 4/);
      expect(problems[4]).toMatch(/line 7: text is empty/);
    }
    expect(() => parseContextCsv(`${HEADER}a1,email,en,"never closed\n`)).toThrow(
      /line 2: a quoted field is never closed/,
    );
    expect(() => parseContextCsv('id,text\n1,x\n')).toThrow(/header lacks category, language/);
  });

  it('round-trips any fields through formatCsv / parseCsv (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const back = parseCsv(formatCsv(rows)).map((r) => r.fields);
          // Blank records are skipped by design; a row of empty fields has at least one comma, so it stays.
          expect(back).toEqual(rows);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('picks Korean particles by the final consonant', () => {
    expect(resolveParticles('책[을/를] 읽다')).toBe('책을 읽다');
    expect(resolveParticles('사과[을/를] 먹다')).toBe('사과를 먹다');
    expect(resolveParticles('서울[으로/로] 간다, 부산[으로/로] 간다')).toBe('서울로 간다, 부산으로 간다');
    expect(resolveParticles('팀[은/는] 3[이/가] 2[와/과]')).toBe('팀은 3이 2와');
  });
});
