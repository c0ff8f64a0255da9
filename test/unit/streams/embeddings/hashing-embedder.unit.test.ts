import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosine, createHashingEmbedder, hashEmbed } from '../../../../streams/embeddings/hashing-embedder.ts';

describe('offline hashing embedder', () => {
  it('is deterministic, unit length and labelled offline', async () => {
    const e = createHashingEmbedder(128);
    expect(e.offline).toBe(true);
    expect(e.model).toMatch(/^offline-/);
    const [a, b] = await e.embed([
      'Please review the attached report.',
      'Please review the attached report.',
    ]);
    expect([...a!]).toEqual([...b!]);
    expect(a!.length).toBe(128);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
  });

  it('puts similar sentences closer than unrelated ones, in Korean and English', () => {
    const ko1 = hashEmbed('회의 일정을 다음 주 화요일로 변경하고자 합니다.');
    const ko2 = hashEmbed('회의 일정을 다음 주 수요일로 변경하고 싶습니다.');
    const ko3 = hashEmbed('신제품 출시 기념 할인 이벤트를 진행합니다!');
    expect(cosine(ko1, ko2)).toBeGreaterThan(cosine(ko1, ko3) + 0.2);
    const en1 = hashEmbed('Thank you for reaching out about your order.');
    const en2 = hashEmbed('Thanks for reaching out about your recent order.');
    const en3 = hashEmbed('The regression coefficients were statistically significant.');
    expect(cosine(en1, en2)).toBeGreaterThan(cosine(en1, en3) + 0.2);
  });

  it('gives an empty text the zero vector rather than NaN', () => {
    expect([...hashEmbed('', 8)]).toEqual(new Array(8).fill(0));
  });

  it('gives exactly the vectors of the string-building version it replaced, for random text', () => {
    // The first implementation, kept as the reference: every token built as a string, then hashed.
    const reference = (text: string, dim: number) => {
      const v = new Float32Array(dim);
      const add = (token: string, weight: number) => {
        let h = 0x811c9dc5;
        for (let i = 0; i < token.length; i++) {
          h ^= token.charCodeAt(i);
          h = Math.imul(h, 0x01000193);
        }
        v[(h >>> 1) % dim]! += h & 1 ? weight : -weight;
      };
      const words = text
        .normalize('NFC')
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter((w) => w.length > 0);
      for (const w of words) {
        add(`w:${w}`, 1.0);
        const chars = [...` ${w} `];
        for (let n = 2; n <= 3; n++)
          for (let i = 0; i + n <= chars.length; i++) add(chars.slice(i, i + n).join(''), 0.5);
      }
      let s = 0;
      for (let i = 0; i < dim; i++) s += v[i]! * v[i]!;
      if (s > 0) for (let i = 0; i < dim; i++) v[i]! *= 1 / Math.sqrt(s);
      return v;
    };
    const piece = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom(
        '회의 일정을',
        '변경하고자 합니다.',
        'Ünïcödé',
        '😀👍🏽',
        'e\u0301',
        'ǅ',
        'İstanbul',
        '12% 증가',
        '\ud800x',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.constantFrom(8, 64, 384), (parts, dim) => {
        const text = parts.join(' ');
        expect([...hashEmbed(text, dim)]).toEqual([...reference(text, dim)]);
      }),
      { numRuns: 2000, seed: 3 },
    );
  });
});
