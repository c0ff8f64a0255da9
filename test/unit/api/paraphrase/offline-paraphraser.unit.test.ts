import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createOfflineParaphraser,
  OFFLINE_PARAPHRASER_MODEL,
} from '../../../../api/paraphrase/offline-paraphraser.ts';
import type { ParaphraseInput } from '../../../../api/paraphrase/paraphraser.ts';
import { allOptions } from '../../../../schemas/options.ts';

const p = createOfflineParaphraser();

const TEXTS: readonly (readonly [string, string])[] = [
  ['The meeting moved to Friday', 'en'],
  ['I want to get the report asap, but it shows a big problem.', 'en'],
  ['thanks', 'en'],
  ['Our new app is very easy to use and really cheap!', 'en'],
  ['We can’t fix the problem before Monday, sorry.', 'en'],
  ['x', 'en'],
  ['회의 일정을 다음 주 화요일로 변경하고자 합니다.', 'ko'],
  ['배송이 늦어져서 문의드립니다', 'ko-KR'],
];

const STYLES = [
  'more polite',
  'make it formal',
  'shorter and concise',
  'friendly and casual',
  'academic tone',
  'more persuasive',
  'like a news article',
  'for a quarterly report',
  'something nobody has a rule for',
  '좀 더 정중하게',
  '간결하게 요약해 주세요',
  '친근하게',
];

/** What the old paraphraser produced: numbered repeats, bracketed or parenthesised style echoes. */
const PLACEHOLDER = /\(\d+\)|^\[[^\]]*\]|\s\(([^)]*)\)$|—\s*(?:more|make|shorter)/u;

function check(input: ParaphraseInput, candidates: string[]) {
  const n = input.n ?? 3;
  expect(candidates, JSON.stringify(input)).toHaveLength(n);
  expect(new Set(candidates).size, JSON.stringify({ input, candidates })).toBe(n);
  for (const c of candidates) {
    expect(c.trim(), JSON.stringify(input)).toBe(c);
    expect(c.length).toBeGreaterThan(0);
    expect(c).not.toBe(input.text.trim());
    expect(c, JSON.stringify({ input, c })).not.toMatch(PLACEHOLDER);
    expect(c).not.toContain('  ');
    // The text is still there: a rewrite dresses it, it does not replace it.
    if (input.text.length > 2) expect(c.toLowerCase()).toMatch(/\p{L}/u);
  }
}

describe('offline paraphraser', () => {
  it('gives n distinct candidates without placeholders for every option × text × n, labelled offline', async () => {
    let calls = 0;
    for (const o of allOptions()) {
      for (const [text, language] of TEXTS) {
        for (const n of [1, 3, 5, 10]) {
          const input: ParaphraseInput = { text, language, request: o, n };
          const out = await p.paraphrase(input);
          check(input, out.candidates);
          expect(out).toMatchObject({ provider: 'offline', model: OFFLINE_PARAPHRASER_MODEL });
          calls++;
        }
      }
    }
    expect(calls).toBe(21 * TEXTS.length * 4);
  });

  it('does the same for style requests, and for a category outside the default vocabulary', async () => {
    for (const style_request of STYLES) {
      for (const [text, language] of TEXTS) {
        for (const n of [1, 4, 10]) {
          const input: ParaphraseInput = { text, language, request: { style_request }, n };
          check(input, (await p.paraphrase(input)).candidates);
        }
      }
    }
    const input: ParaphraseInput = {
      text: 'See you soon',
      language: 'en',
      request: { category: 'legal', intensity: 'strong' },
      n: 10,
    };
    check(input, (await p.paraphrase(input)).candidates);
  });

  it('is deterministic, and holds for arbitrary sentences', async () => {
    const word = fc.constantFrom(
      'the',
      'report',
      'We',
      'get',
      'very',
      'big',
      'problem',
      'show',
      'Friday',
      '회의',
      '감사',
      'asap',
      'I',
    );
    const sentence = fc.array(word, { minLength: 1, maxLength: 12 }).map((ws) => ws.join(' '));
    const request = fc.oneof(
      fc.constantFrom(...allOptions()),
      fc.constantFrom(...STYLES).map((style_request) => ({ style_request })),
    );
    await fc.assert(
      fc.asyncProperty(
        sentence,
        request,
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom('en', 'ko'),
        async (text, req, n, language) => {
          const input: ParaphraseInput = { text, language, request: req, n };
          const a = await p.paraphrase(input);
          const b = await p.paraphrase(input);
          expect(b.candidates).toEqual(a.candidates);
          check(input, a.candidates);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads like the register: weak keeps the sentence and swaps words, strong frames it at both ends', async () => {
    const text = 'I want to get the report asap.';
    const weak = await p.paraphrase({
      text,
      language: 'en',
      request: { category: 'email', intensity: 'weak' },
      n: 1,
    });
    expect(weak.candidates[0]).toBe('I would like to get the report asap.');
    const strong = await p.paraphrase({
      text,
      language: 'en',
      request: { category: 'email', intensity: 'strong' },
      n: 3,
    });
    for (const c of strong.candidates) {
      expect(c).toContain('I would like to receive the report as soon as possible.');
      expect(c.startsWith('I would like')).toBe(false);
      expect(c.endsWith('as soon as possible.')).toBe(false);
    }
    const concise = await p.paraphrase({
      text: 'It is really very simple (we checked).',
      language: 'en',
      request: { style_request: 'shorter' },
      n: 1,
    });
    expect(concise.candidates[0]).toBe('It is simple.');
  });
});
