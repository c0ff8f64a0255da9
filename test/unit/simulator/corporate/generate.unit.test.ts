import { describe, expect, it } from 'vitest';
import { corporateRowSchema } from '../../../../schemas/index.ts';
import { generateCorporateSample } from '../../../../simulator/corporate/generate.ts';
import {
  DEFAULT_LATENT_TYPES,
  type LatentUserType,
  mainOption,
} from '../../../../simulator/corporate/latent-types.ts';
import { loadContextPool } from '../../../../simulator/pools/contexts.ts';

const contexts = loadContextPool();

describe('generateCorporateSample', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateCorporateSample({ users: 40, seed: 5, contexts });
    const b = generateCorporateSample({ users: 40, seed: 5, contexts });
    const c = generateCorporateSample({ users: 40, seed: 6, contexts });
    expect(b).toEqual(a);
    expect(c.rows).not.toEqual(a.rows);
  });

  it('writes valid, time-ordered rows spread over weeks, with the ground truth kept out of them', () => {
    const { rows, truth } = generateCorporateSample({ users: 80, seed: 11, contexts, rowsPerUser: [10, 20] });
    for (const r of rows) expect(corporateRowSchema.safeParse(r).success).toBe(true);
    for (const r of rows) expect(r.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    const ts = rows.map((r) => Date.parse(r.ts));
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    expect(ts.at(-1)! - ts[0]!).toBeGreaterThan(4 * 7 * 86_400_000);
    const perUser = new Map<string, number>();
    for (const r of rows) perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + 1);
    expect(perUser.size).toBe(80);
    for (const n of perUser.values()) expect(n >= 10 && n <= 20).toBe(true);
    expect(Object.keys(truth).sort()).toEqual([...perUser.keys()].sort());
    const typeNames = new Set(DEFAULT_LATENT_TYPES.map((t) => t.name));
    for (const t of Object.values(truth)) expect(typeNames.has(t)).toBe(true);
    for (const r of rows) expect(Object.values(r)).not.toContain(truth[r.user_id]);
  });

  it('fills text from the pool in the row category and language, in both languages', () => {
    const { rows } = generateCorporateSample({ users: 60, seed: 3, contexts });
    const byText = new Map(contexts.map((c) => [c.text, c]));
    const langs = new Set<string>();
    for (const r of rows) {
      const ctx = byText.get(r.text!);
      expect(ctx, r.text).toBeDefined();
      expect(ctx!.category).toBe(r.category);
      expect(ctx!.language).toBe(r.language);
      langs.add(r.language!);
    }
    expect([...langs].sort()).toEqual(['en', 'ko']);
    expect(rows.some((r) => r.user_prompt !== '')).toBe(true);
    expect(rows.some((r) => r.user_prompt === '')).toBe(true);
  });

  it("makes each type's main option its users' most chosen option", () => {
    const { rows, truth, types } = generateCorporateSample({ users: 160, seed: 21, contexts });
    for (const t of types) {
      const counts = new Map<string, number>();
      for (const r of rows) {
        if (truth[r.user_id] !== t.name) continue;
        const k = `${r.category}:${r.intensity}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      expect(top, t.name).toBe(mainOption(t));
    }
  });

  it('takes custom types and rejects options outside the vocabulary', () => {
    const solo: LatentUserType = {
      name: 'lawyer',
      weight: 1,
      options: { 'report:strong': 1 },
      acceptRate: 0.9,
      languages: { en: 1 },
      prompts: { en: ['more precise'] },
      companies: ['law-firm'],
    };
    const { rows, truth } = generateCorporateSample({
      users: 5,
      seed: 1,
      types: [solo],
      noise: 0,
      spread: 0,
    });
    expect(new Set(Object.values(truth))).toEqual(new Set(['lawyer']));
    expect(
      rows.every((r) => r.category === 'report' && r.intensity === 'strong' && r.language === 'en'),
    ).toBe(true);
    expect(rows.every((r) => r.text === undefined)).toBe(true);
    expect(() =>
      generateCorporateSample({ users: 5, seed: 1, types: [{ ...solo, options: { 'legal:strong': 1 } }] }),
    ).toThrow(/legal:strong/);
    expect(() => generateCorporateSample({ users: 0, seed: 1 })).toThrow(RangeError);
  });
});
