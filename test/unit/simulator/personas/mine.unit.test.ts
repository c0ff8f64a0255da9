import { describe, expect, it } from 'vitest';
import { generateCorporateSample } from '../../../../simulator/corporate/generate.ts';
import { mainOption } from '../../../../simulator/corporate/latent-types.ts';
import { minePersonas, scoreAgainstTruth } from '../../../../simulator/personas/mine.ts';
import { loadPersonas, parsePersonas } from '../../../../simulator/personas/schema.ts';
import { loadContextPool } from '../../../../simulator/pools/contexts.ts';

const contexts = loadContextPool();
const sample = generateCorporateSample({ users: 200, seed: 7, contexts });

describe('minePersonas', () => {
  const mined = minePersonas(sample.rows, { seed: 42, truth: sample.truth });

  it('recovers the latent types (ARI ≥ 0.8) with k chosen in [5, 10]', () => {
    const { report } = mined;
    expect(report.kChosenBy).toBe('silhouette');
    expect(report.k).toBeGreaterThanOrEqual(5);
    expect(report.k).toBeLessThanOrEqual(10);
    expect(report.candidates.map((c) => c.k)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(report.truth!.ari).toBeGreaterThanOrEqual(0.8);
    expect(report.users).toBe(200);
    expect(report.rows).toBe(sample.rows.length);
  });

  it("gives every latent type's main option to some persona as its preferred option", () => {
    const preferred = new Set(mined.personas.map((p) => `${p.preferred_category}:${p.preferred_intensity}`));
    for (const t of sample.types) expect(preferred, t.name).toContain(mainOption(t));
  });

  it('writes personas in the seeds format, named from the data, with every user assigned', () => {
    const personas = parsePersonas(mined.personas);
    expect(personas).toHaveLength(mined.report.k);
    for (const p of personas) {
      expect(p.name).toContain(`${p.preferred_category}-${p.preferred_intensity}`);
      expect(p.accept_rate).toBeGreaterThan(0);
      expect(p.style_prompt.length).toBeGreaterThan(0);
      expect(p.style_prompts![0]).toBe(p.style_prompt);
      const shares = Object.values(p.option_distribution!);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
      expect(Object.keys(p.option_distribution!)[0]).toBe(`${p.preferred_category}:${p.preferred_intensity}`);
      expect(Object.keys(p.languages!).sort()).toEqual(['en', 'ko']);
    }
    const sizes = personas.map((p) => p.users!);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Object.keys(mined.assignments)).toHaveLength(200);
    const names = new Set(personas.map((p) => p.name));
    for (const name of Object.values(mined.assignments)) expect(names).toContain(name);
    for (const r of mined.report.truth!.perPersona) expect(r.majorityShare).toBeGreaterThan(0.5);
  });

  it('is deterministic for a seed, whatever the row order', () => {
    const again = minePersonas([...sample.rows].reverse(), { seed: 42, truth: sample.truth });
    expect(again).toEqual(mined);
  });

  it('takes a fixed k and assigns light users after fitting', () => {
    const light = [
      { ...sample.rows[0]!, user_id: 'light-1' },
      { ...sample.rows[1]!, user_id: 'light-1' },
    ];
    const res = minePersonas([...sample.rows, ...light], { k: 6, seed: 3, restarts: 2 });
    expect(res.report.kChosenBy).toBe('fixed');
    expect(res.personas).toHaveLength(6);
    expect(res.report.lightUsers).toBe(1);
    expect(res.assignments['light-1']).toBeDefined();
    expect(res.report.truth).toBeUndefined();
  });

  it('scores a partition against the truth', () => {
    const perfect = scoreAgainstTruth(
      { a: 'p1', b: 'p1', c: 'p2', d: 'p2' },
      { a: 'x', b: 'x', c: 'y', d: 'y' },
    );
    expect(perfect.ari).toBe(1);
    expect(perfect.perPersona).toEqual([
      { persona: 'p1', users: 2, majorityType: 'x', majorityShare: 1 },
      { persona: 'p2', users: 2, majorityType: 'y', majorityShare: 1 },
    ]);
    const merged = scoreAgainstTruth(
      { a: 'p1', b: 'p1', c: 'p1', d: 'p1' },
      { a: 'x', b: 'x', c: 'y', d: 'y' },
    );
    expect(merged.ari).toBe(0);
    expect(merged.perType).toEqual([
      { type: 'x', users: 2, persona: 'p1', share: 1 },
      { type: 'y', users: 2, persona: 'p1', share: 1 },
    ]);
  });

  it('ships simulator/data/personas.json as mined from the default sample (cli generate/mine, seed 42)', () => {
    const base = generateCorporateSample({ users: 240, seed: 42, contexts });
    expect(minePersonas(base.rows, { seed: 42 }).personas).toEqual(loadPersonas());
  });

  it('refuses empty input', () => {
    expect(() => minePersonas([])).toThrow(/no rows/);
  });
});
