import type { CorporateRow } from '../../schemas/index.ts';

/** One frequent style request mined from D. */
export interface PromptStat {
  /** The most common spelling of the request (trimmed, single-spaced). */
  readonly prompt: string;
  /** The normalised form rows were grouped by. */
  readonly key: string;
  readonly count: number;
  /** Share of all rows that carry a request. */
  readonly share: number;
  readonly acceptRate: number;
  /** Language → share of this request's rows (`unknown` when a row names none). */
  readonly languages: Readonly<Record<string, number>>;
  /** Option key (`category:intensity`) → share of this request's rows, largest first. */
  readonly options: Readonly<Record<string, number>>;
  readonly topOption: string;
}

export interface PromptPoolOptions {
  /** How many requests to return (default 20). */
  readonly top?: number;
  /** Leave out requests seen fewer times (default 1). */
  readonly minCount?: number;
}

/**
 * Grouping key for a style request: Unicode NFC, lower case, whitespace collapsed, trailing
 * punctuation dropped, so "Make it  shorter." and "make it shorter" count as one request.
 */
export function normalisePrompt(prompt: string): string {
  return prompt
    .normalize('NFC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s.!?~。！？]+$/u, '');
}

/**
 * The style-request corpus: frequencies of `user_prompt` in D (empty requests ignored), top N with
 * the options each request co-occurs with. Pure; ties break on the key so the order is stable.
 *
 * @example
 * promptPool(rows, { top: 5 })[0] // { prompt: '정중하게', count: 812, topOption: 'email:moderate', … }
 */
export function promptPool(rows: readonly CorporateRow[], options: PromptPoolOptions = {}): PromptStat[] {
  const top = options.top ?? 20;
  const minCount = options.minCount ?? 1;
  interface Acc {
    count: number;
    accepted: number;
    spellings: Map<string, number>;
    languages: Map<string, number>;
    options: Map<string, number>;
  }
  const byKey = new Map<string, Acc>();
  let prompted = 0;
  for (const r of rows) {
    const key = normalisePrompt(r.user_prompt ?? '');
    if (key === '') continue;
    prompted += 1;
    let acc = byKey.get(key);
    if (!acc) {
      acc = { count: 0, accepted: 0, spellings: new Map(), languages: new Map(), options: new Map() };
      byKey.set(key, acc);
    }
    acc.count += 1;
    if (r.accepted) acc.accepted += 1;
    bump(acc.spellings, r.user_prompt.replace(/\s+/g, ' ').trim());
    bump(acc.languages, r.language ?? 'unknown');
    bump(acc.options, `${r.category}:${r.intensity}`);
  }
  return [...byKey.entries()]
    .filter(([, a]) => a.count >= minCount)
    .sort(([ka, a], [kb, b]) => b.count - a.count || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .slice(0, top)
    .map(([key, a]) => {
      const opts = shares(a.options, a.count);
      return {
        prompt: mostCommon(a.spellings),
        key,
        count: a.count,
        share: round(a.count / prompted, 4),
        acceptRate: round(a.accepted / a.count, 3),
        languages: shares(a.languages, a.count),
        options: opts,
        topOption: Object.keys(opts)[0]!,
      };
    });
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** Counts → shares, largest first (ties by key), rounded to 3 places. */
function shares(m: Map<string, number>, total: number): Record<string, number> {
  return Object.fromEntries(
    [...m.entries()]
      .sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1))
      .map(([k, v]) => [k, round(v / total, 3)]),
  );
}

function mostCommon(m: Map<string, number>): string {
  let best = '';
  let bestN = -1;
  for (const [k, n] of m) if (n > bestN || (n === bestN && k < best)) [best, bestN] = [k, n];
  return best;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
