import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPersonas, PersonasFileError, parsePersonas } from '../../../../simulator/personas/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'personas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/** The example from the seeds' Phase 3 plan. */
const SEEDS_EXAMPLE = [
  {
    name: 'Academic_Writer',
    preferred_category: 'thesis',
    preferred_intensity: 'strong',
    style_prompt: '학술적인 톤으로 변경해줘',
    accept_rate: 0.8,
  },
  {
    name: 'Casual_Mailer',
    preferred_category: 'email',
    preferred_intensity: 'weak',
    style_prompt: '',
    accept_rate: 0.5,
  },
];

describe('personas file', () => {
  it('loads a minimal file in the seeds format', () => {
    const personas = loadPersonas(write('seeds.json', JSON.stringify(SEEDS_EXAMPLE)));
    expect(personas).toEqual(SEEDS_EXAMPLE);
  });

  it('loads the shipped default personas (5–10, mined from the seed-42 sample)', () => {
    const personas = loadPersonas();
    expect(personas.length).toBeGreaterThanOrEqual(5);
    expect(personas.length).toBeLessThanOrEqual(10);
    for (const p of personas) expect(p.option_distribution).toBeDefined();
  });

  it('names the persona and field that are wrong', () => {
    const broken = [
      SEEDS_EXAMPLE[0],
      { ...SEEDS_EXAMPLE[1], accept_rate: 1.5, preferred_intensity: undefined },
    ];
    const path = write('broken.json', JSON.stringify(broken));
    expect(() => loadPersonas(path)).toThrow(PersonasFileError);
    try {
      loadPersonas(path);
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain(path);
      expect(msg).toContain('[1].preferred_intensity');
      expect(msg).toContain('[1].accept_rate');
      expect((e as PersonasFileError).code).toBe('PERSONAS_INVALID');
    }
  });

  it('rejects duplicates, an empty list, bad JSON and a missing file with a clear message', () => {
    expect(() => parsePersonas([SEEDS_EXAMPLE[0], SEEDS_EXAMPLE[0]])).toThrow(
      /\[1\]\.name: "Academic_Writer" repeats persona 0/,
    );
    expect(() => parsePersonas([])).toThrow(/at least one persona/);
    expect(() => parsePersonas({ personas: SEEDS_EXAMPLE })).toThrow(/not a valid personas file/);
    expect(() => loadPersonas(write('bad.json', '[{"name": '))).toThrow(/not valid JSON/);
    expect(() => loadPersonas(join(dir, 'missing.json'))).toThrow(/cannot read the personas file/);
    expect(() =>
      parsePersonas([{ ...SEEDS_EXAMPLE[0], option_distribution: { 'thesis:extreme': 0.5 } }]),
    ).toThrow(/\[0\]\.option_distribution/);
  });
});
