import { describe, expect, it } from 'vitest';
import { allOptions, DEFAULT_VOCABULARY, optionKey } from '../../../schemas/index.ts';
import { createDomainPicker } from '../../../simulator/domains.ts';
import { evaluate, formatReport, preferredOf } from '../../../simulator/evaluate.ts';
import {
  expectedOption,
  isContextDependent,
  type Persona,
  parsePersonas,
} from '../../../simulator/personas/schema.ts';
import { loadContextPool } from '../../../simulator/pools/contexts.ts';
import { type ApiClient, type SessionRecord, simulate } from '../../../simulator/simulate.ts';

const contexts = loadContextPool();
const fieldOf = new Map(contexts.map((c) => [c.text, c.category]));
const options: string[] = allOptions(DEFAULT_VOCABULARY).map(optionKey);

const [scholar, agent, plain] = parsePersonas([
  {
    name: 'Scholar',
    preferred_category: 'thesis',
    preferred_intensity: 'strong',
    style_prompt: '',
    accept_rate: 0.8,
    domains: { thesis: 3, email: 1 },
    preferred_by_domain: { thesis: 'thesis:strong', email: 'email:strong' },
  },
  {
    name: 'Agent',
    preferred_category: 'customer_service',
    preferred_intensity: 'moderate',
    style_prompt: '',
    accept_rate: 0.7,
    // partial: a field without its own option falls back to the preferred one
    domains: { customer_service: 1, email: 1 },
    preferred_by_domain: { email: 'email:weak' },
  },
  {
    name: 'Plain',
    preferred_category: 'general',
    preferred_intensity: 'weak',
    style_prompt: '',
    accept_rate: 0.5,
  },
]) as [Persona, Persona, Persona];

/** An API that ranks nothing in particular and records every /recommend body. */
function fakeApi() {
  const recommends: Record<string, unknown>[] = [];
  let n = 0;
  const api: ApiClient = {
    async post(path, body) {
      if (path === '/recommend') {
        recommends.push(body as Record<string, unknown>);
        return {
          status: 200,
          body: {
            recommend_session_id: `s${++n}`,
            options: options.map((k) => ({ category: k.split(':')[0], intensity: k.split(':')[1] })),
          },
        };
      }
      if (path === '/paraphrase') return { status: 200, body: { candidates: ['a', 'b'] } };
      return { status: 200, body: {} };
    },
  };
  return { api, recommends };
}
const pacer = { wait: async () => {}, endOfRound: async () => {} };

describe('expected option per session', () => {
  it("is the persona's option for the field, its preferred option elsewhere", () => {
    expect(expectedOption(scholar, 'email')).toBe('email:strong');
    expect(expectedOption(scholar, 'thesis')).toBe('thesis:strong');
    expect(expectedOption(agent, 'customer_service')).toBe('customer_service:moderate');
    expect(expectedOption(agent, 'report')).toBe('customer_service:moderate');
    expect(expectedOption(plain, 'email')).toBe('general:weak');
    expect(expectedOption(plain, null)).toBe('general:weak');
    expect([scholar, agent, plain].map(isContextDependent)).toEqual([true, true, false]);
  });
});

describe('sampling by domain', () => {
  it("draws documents' fields by the persona's shares and sentences from that field's part of the pool", () => {
    const d = createDomainPicker(contexts, 3, 0.5, 0.8, options);
    const n = 4000;
    const fields = Array.from({ length: n }, () => d.documentDomain(scholar));
    expect(fields.filter((f) => f === 'thesis').length / n).toBeCloseTo(0.75, 1);
    expect(fields.filter((f) => f === 'email').length / n).toBeCloseTo(0.25, 1);
    expect(d.documentDomain(plain)).toBeNull();
    for (let i = 0; i < 50; i++) {
      const c = d.context('email', 'ko', i / 50);
      expect([c.category, c.language]).toEqual(['email', 'ko']);
    }
    // a field the pool lacks: any sentence rather than a failure
    expect(contexts).toContain(d.context('legal', 'en', 0.3));
    const declared = Array.from({ length: n }, () => d.declare()).filter(Boolean).length / n;
    expect(declared).toBeCloseTo(0.5, 1);
    expect(
      Array.from({ length: 100 }, () => createDomainPicker(contexts, 3, 0, 0.8, options).declare()),
    ).not.toContain(true);
  });

  it('makes the bots write and choose by field, declare the field on about half the requests, and record what each session is measured against', async () => {
    const { api, recommends } = fakeApi();
    const records = await simulate(
      { personas: [scholar, agent, plain], contexts, sessions: 600, seed: 9 },
      api,
      pacer,
    );
    expect(records).toHaveLength(600);
    const declared = recommends.filter((r) => r.doc_field !== undefined);
    expect(declared.length / recommends.length).toBeGreaterThan(0.4);
    expect(declared.length / recommends.length).toBeLessThan(0.6);
    records.forEach((r, i) => {
      const field = fieldOf.get(recommends[i]!.text as string)!;
      if (r.persona === 'Plain') {
        expect(r.preferred).toBe('general:weak');
        expect(r.domain).toBe(field);
      } else {
        expect(r.domain).toBe(field);
        expect(['thesis', 'email', 'customer_service']).toContain(field);
      }
      if (recommends[i]!.doc_field !== undefined) expect(recommends[i]!.doc_field).toBe(r.domain);
      if (r.persona === 'Scholar')
        expect(r.preferred).toBe(r.domain === 'email' ? 'email:strong' : 'thesis:strong');
      expect(r.docFieldDeclared).toBe(recommends[i]!.doc_field !== undefined);
    });
    // one field per document for personas with domains
    const docs = new Map<string, Set<string>>();
    recommends.forEach((r, i) => {
      if (records[i]!.persona === 'Plain') return;
      const set = docs.get(r.doc_id as string) ?? new Set();
      set.add(records[i]!.domain!);
      docs.set(r.doc_id as string, set);
    });
    for (const s of docs.values()) expect(s.size).toBe(1);
    // the scholar mostly picks its option for the field
    const sch = records.filter((r) => r.persona === 'Scholar' && r.chosen !== null);
    expect(sch.filter((r) => r.chosen === r.preferred).length / sch.length).toBeGreaterThan(0.75);
  });

  it('leaves a context-free persona writing on every topic', async () => {
    const { api, recommends } = fakeApi();
    await simulate({ personas: [plain], contexts, sessions: 300, seed: 2 }, api, pacer);
    const fields = new Set(recommends.map((r) => fieldOf.get(r.text as string)));
    expect(fields.size).toBe(DEFAULT_VOCABULARY.categories.length);
  });
});

describe("the report's preferred", () => {
  const rec = (persona: string, domain: string, preferred: string, rank: number): SessionRecord => {
    const ranked = options.filter((o) => o !== preferred);
    ranked.splice(rank - 1, 0, preferred);
    return {
      persona,
      user: 'u',
      past: 0,
      preferred,
      domain,
      ranked,
      explored: false,
      coldStart: true,
      degraded: false,
      chosen: preferred,
      outcome: 'accepted',
      language: 'en',
    };
  };

  it('is an object of per-field options where they differ, the single option otherwise; hits count against each session', () => {
    const rs = [
      rec('Scholar', 'thesis', 'thesis:strong', 1),
      rec('Scholar', 'email', 'email:strong', 1),
      rec('Scholar', 'email', 'email:strong', 2),
      rec('Plain', 'email', 'general:weak', 1),
      rec('Plain', 'thesis', 'general:weak', 3),
    ];
    expect(preferredOf(rs.slice(0, 3))).toEqual({ email: 'email:strong', thesis: 'thesis:strong' });
    const r = evaluate(rs);
    expect(r.per_persona.Scholar!.preferred).toEqual({ email: 'email:strong', thesis: 'thesis:strong' });
    expect(r.per_persona.Scholar!.hit_at_1).toBeCloseTo(2 / 3, 4);
    expect(r.per_persona.Plain!.preferred).toBe('general:weak');
    expect(formatReport(r, null)).toContain('email→email:strong, thesis→thesis:strong');
  });
});
