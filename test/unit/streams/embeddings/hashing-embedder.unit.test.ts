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
});
