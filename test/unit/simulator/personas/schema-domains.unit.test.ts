import { describe, expect, it } from 'vitest';
import {
  CONTEXT_PERSONAS_PATH,
  isContextDependent,
  loadPersonas,
  PersonasFileError,
  parsePersonas,
} from '../../../../simulator/personas/schema.ts';

const base = {
  name: 'Scholar',
  preferred_category: 'thesis',
  preferred_intensity: 'strong',
  style_prompt: '',
  accept_rate: 0.8,
};

describe('personas file: context-dependent fields', () => {
  it('loads old files unchanged (no domains, no preferred_by_domain)', () => {
    const old = loadPersonas();
    expect(old.length).toBeGreaterThan(0);
    for (const p of old) {
      expect(p).not.toHaveProperty('domains');
      expect(p).not.toHaveProperty('preferred_by_domain');
      expect(isContextDependent(p)).toBe(false);
    }
    expect(parsePersonas([base])).toEqual([base]);
  });

  it('loads domains and preferred_by_domain, partial ones included', () => {
    const p = {
      ...base,
      domains: { thesis: 0.6, email: 0.4, report: 0 },
      preferred_by_domain: { email: 'email:strong' },
    };
    expect(parsePersonas([p])).toEqual([p]);
    expect(isContextDependent(parsePersonas([p])[0]!)).toBe(true);
    expect(
      isContextDependent(parsePersonas([{ ...base, preferred_by_domain: { email: 'email:weak' } }])[0]!),
    ).toBe(true);
  });

  it('ships a context-dependent file whose every persona has both fields', () => {
    const ps = loadPersonas(CONTEXT_PERSONAS_PATH);
    expect(ps.length).toBeGreaterThanOrEqual(5);
    for (const p of ps) {
      expect(Object.keys(p.domains!).length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(p.preferred_by_domain!).sort()).toEqual(Object.keys(p.domains!).sort());
    }
  });

  it.each([
    [{ domains: { Thesis: 1 } }, '[0].domains'],
    [{ domains: { thesis: -1 } }, '[0].domains.thesis'],
    [{ domains: { thesis: 0 } }, '[0].domains'],
    [{ preferred_by_domain: { email: 'email' } }, '[0].preferred_by_domain.email'],
    [{ preferred_by_domain: { email: 'email:loud' } }, '[0].preferred_by_domain.email'],
  ])('names the bad field: %j', (extra, path) => {
    expect(() => parsePersonas([{ ...base, ...extra }])).toThrow(PersonasFileError);
    expect(() => parsePersonas([{ ...base, ...extra }])).toThrow(path);
  });
});
