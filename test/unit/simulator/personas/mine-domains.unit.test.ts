import { describe, expect, it } from 'vitest';
import { generateCorporateSample } from '../../../../simulator/corporate/generate.ts';
import { CONTEXT_LATENT_TYPES, type LatentUserType } from '../../../../simulator/corporate/latent-types.ts';
import { minePersonas } from '../../../../simulator/personas/mine.ts';
import { CONTEXT_PERSONAS_PATH, loadPersonas } from '../../../../simulator/personas/schema.ts';
import { loadContextPool } from '../../../../simulator/pools/contexts.ts';

const contexts = loadContextPool();
const fieldOf = new Map(contexts.map((c) => [c.text, c.category]));

describe('context-dependent D and mining domains', () => {
  const sample = generateCorporateSample({ users: 200, seed: 11, contexts, types: CONTEXT_LATENT_TYPES });

  it("generates each row's text from the field it was written in, and its option by that field", () => {
    const scholarUsers = new Set(
      Object.entries(sample.truth)
        .filter(([, t]) => t === 'scholar')
        .map(([u]) => u),
    );
    const rows = sample.rows.filter((r) => scholarUsers.has(r.user_id));
    const inEmail = rows.filter((r) => fieldOf.get(r.text!) === 'email');
    const inThesis = rows.filter((r) => fieldOf.get(r.text!) === 'thesis');
    expect(inEmail.length + inThesis.length).toBe(rows.length);
    const share = (rs: typeof rows, key: string) =>
      rs.filter((r) => `${r.category}:${r.intensity}` === key).length / rs.length;
    expect(share(inEmail, 'email:strong')).toBeGreaterThan(0.5);
    expect(share(inThesis, 'thesis:strong')).toBeGreaterThan(0.5);
    expect(share(inEmail, 'thesis:strong')).toBeLessThan(0.1);
  });

  it("learns every planted type's domains and its option per field from the texts' fields", () => {
    const { personas, report } = minePersonas(sample.rows, { seed: 42, contexts, truth: sample.truth });
    expect(report.truth!.ari).toBeGreaterThanOrEqual(0.9);
    for (const t of CONTEXT_LATENT_TYPES) {
      const p = personas.find(
        (x) =>
          x.users && report.truth!.perPersona.some((r) => r.persona === x.name && r.majorityType === t.name),
      );
      expect(p, t.name).toBeDefined();
      expect(Object.keys(p!.domains!).sort()).toEqual(Object.keys(t.domains!).sort());
      for (const [field, options] of Object.entries(t.byDomain!)) {
        const main = Object.entries(options).sort(([, a], [, b]) => b - a)[0]![0];
        expect(p!.preferred_by_domain![field], `${t.name} in ${field}`).toBe(main);
      }
      for (const [field, w] of Object.entries(t.domains!)) expect(p!.domains![field]!).toBeCloseTo(w, 1);
    }
  });

  it('leaves the fields out where the rows do not support them (too few rows, or no text in the pool)', () => {
    const rare: LatentUserType = {
      ...CONTEXT_LATENT_TYPES[0]!,
      name: 'rare',
      weight: 1,
      domains: { thesis: 0.97, email: 0.03 },
    };
    const few = generateCorporateSample({
      users: 20,
      seed: 5,
      contexts,
      types: [rare],
      rowsPerUser: [20, 20],
    });
    const [p] = minePersonas(few.rows, { k: 1, seed: 1, contexts, minDomainRows: 20 }).personas;
    // ~12 email rows of 400: below 20 rows, so email is not a domain; thesis alone does not make
    // the choice depend on the field.
    expect(Object.keys(p!.domains!)).toEqual(['thesis']);
    expect(p!.preferred_by_domain).toBeUndefined();
    const noText = minePersonas(
      few.rows.map(({ text: _t, ...r }) => r),
      { k: 1, seed: 1, contexts },
    ).personas[0]!;
    expect(noText.domains).toBeUndefined();
    expect(noText.preferred_by_domain).toBeUndefined();
  });

  it('without a pool mines context-free personas, as before', () => {
    const [p] = minePersonas(sample.rows, { seed: 42 }).personas;
    expect(p!.domains).toBeUndefined();
    expect(p!.preferred_by_domain).toBeUndefined();
  });

  it('ships simulator/data/personas-context.json as mined from the seed-42 context-dependent sample', () => {
    const base = generateCorporateSample({ users: 240, seed: 42, contexts, types: CONTEXT_LATENT_TYPES });
    expect(minePersonas(base.rows, { seed: 42, contexts }).personas).toEqual(
      loadPersonas(CONTEXT_PERSONAS_PATH),
    );
  });
});
