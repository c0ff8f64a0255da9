import { mulberry32 } from '../common/random.ts';
import { expectedOption, isContextDependent, type Persona } from './personas/schema.ts';
import type { ContextSample } from './pools/contexts.ts';

/**
 * What the bots need to write like context-dependent personas: the field of each document they
 * start, a sentence of that field's part of the pool, whether a request declares the field, and
 * the option picked there.
 */
export interface DomainPicker {
  /** A new document's field, drawn from the persona's `domains` shares; null without domains. */
  documentDomain(persona: Persona): string | null;
  /**
   * A sentence of `domain` in `language` (`r` uniform in [0, 1)). A field the pool lacks in that
   * language falls back to the field in any language, then to the whole pool, so a personas file
   * may name fields the pool does not have (their sentences then carry no sign of the field).
   */
  context(domain: string, language: string, r: number): ContextSample;
  /** Whether this request declares the doc field (true with probability `docFieldRate`). */
  declare(): boolean;
  /** The option the session is measured against. */
  expected(persona: Persona, domain: string): string;
  dependent(persona: Persona): boolean;
  /** A context-dependent persona's pick: its option for the field with probability `preferredShare`, else any option. */
  choose(persona: Persona, domain: string, r: number): string;
}

/**
 * Builds the picker over a context pool. Its draws come from a stream of their own (seeded from
 * `seed`), so adding declarations leaves the bots' other draws as they were. Pure apart from
 * that stream; deterministic for a seed.
 *
 * @example
 * const domains = createDomainPicker(loadContextPool(), 42, 0.5, 0.8, optionKeys);
 * const field = domains.documentDomain(scholar); // 'thesis' 60 % of documents, 'email' 40 %
 */
export function createDomainPicker(
  contexts: readonly ContextSample[],
  seed: number,
  docFieldRate: number,
  preferredShare: number,
  options: readonly string[],
): DomainPicker {
  if (!(docFieldRate >= 0 && docFieldRate <= 1)) throw new RangeError('docFieldRate must be in [0, 1]');
  const rnd = mulberry32((seed ^ 0x5f3759df) >>> 0);
  const byField = new Map<string, ContextSample[]>();
  const byFieldLang = new Map<string, ContextSample[]>();
  for (const c of contexts) {
    push(byField, c.category, c);
    push(byFieldLang, `${c.category}|${c.language}`, c);
  }
  const shares = new WeakMap<Persona, [string, number][]>();
  const sharesOf = (p: Persona) => {
    let s = shares.get(p);
    if (!s) {
      s = Object.entries(p.domains ?? {})
        .filter(([, w]) => w > 0)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      shares.set(p, s);
    }
    return s;
  };
  return {
    documentDomain(p) {
      const s = sharesOf(p);
      return s.length > 0 ? pickWeighted(s, rnd()) : null;
    },
    context(domain, language, r) {
      const pool = byFieldLang.get(`${domain}|${language}`) ?? byField.get(domain) ?? contexts;
      return pool[Math.min(pool.length - 1, Math.floor(r * pool.length))]!;
    },
    declare: () => rnd() < docFieldRate,
    expected: (p, domain) => expectedOption(p, domain),
    dependent: isContextDependent,
    choose(p, domain, r) {
      if (r < preferredShare || options.length === 0) return expectedOption(p, domain);
      return options[Math.floor(rnd() * options.length)]!;
    },
  };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function pickWeighted<T>(entries: readonly [T, number][], r: number): T {
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [v, w] of entries) {
    x -= w;
    if (x < 0) return v;
  }
  return entries[entries.length - 1]![0];
}
