import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { mulberry32 } from '../../common/random.ts';
import type { ContextSample } from './contexts.ts';

/**
 * Hand-written sentence cores per category and language (simulator/data/context-fragments.json),
 * with slots, discourse-marker prefixes and sign-offs. Composing them gives a pool that varies in
 * structure (the cores are all different sentences, including some sloppy drafts, which is what
 * users actually select for a rewrite) and in vocabulary (the slots), rather than one template
 * with numbers swapped.
 *
 * A core starting with `!` takes no prefix or suffix (it would not read naturally with one).
 * Korean particles are written `[을/를]`, `[이/가]`, `[은/는]`, `[와/과]`, `[으로/로]` and resolved
 * against the preceding syllable after the slots are filled.
 */
interface SentenceBank {
  /** Discourse markers / greetings; one opens about a third of the sentences. */
  readonly prefixes: readonly string[];
  /** Sign-offs; one closes about a quarter of the sentences that end in punctuation. */
  readonly suffixes?: readonly string[];
  readonly slots: Readonly<Record<string, readonly string[]>>;
  /** Slots whose values go together (same index), e.g. a product and the benefit it offers. */
  readonly linked?: readonly (readonly string[])[];
  readonly cores: readonly string[];
}

type Lang = 'en' | 'ko';

const sentenceBankSchema = z.object({
  prefixes: z.array(z.string()),
  suffixes: z.array(z.string()).optional(),
  slots: z.record(z.string(), z.array(z.string()).min(1)),
  linked: z.array(z.array(z.string())).optional(),
  cores: z.array(z.string()).min(1),
});
const sentenceBanksSchema = z.record(
  z.string(),
  z.object({ en: sentenceBankSchema, ko: sentenceBankSchema }),
);

type SentenceBanks = Readonly<Record<string, Readonly<Record<Lang, SentenceBank>>>>;

const FRAGMENTS_PATH = fileURLToPath(new URL('../data/context-fragments.json', import.meta.url));
let banks: SentenceBanks | null = null;

/** The banks (category → language → bank), read and checked once: data, not code. */
function sentenceBanks(): SentenceBanks {
  banks ??= sentenceBanksSchema.parse(JSON.parse(readFileSync(FRAGMENTS_PATH, 'utf8')));
  return banks;
}

const PARTICLES: Readonly<Record<string, readonly [withFinal: string, withoutFinal: string]>> = {
  '을/를': ['을', '를'],
  '이/가': ['이', '가'],
  '은/는': ['은', '는'],
  '와/과': ['과', '와'],
  '으로/로': ['으로', '로'],
};

/** Digits read in Sino-Korean: 0 영, 1 일, 3 삼, 6 육, 7 칠, 8 팔 end in a consonant. */
const DIGIT_FINAL: Readonly<Record<string, number>> = { '0': 21, '1': 8, '3': 16, '6': 1, '7': 8, '8': 8 };

/** Final-consonant index of the last sounding character (0 = none, 8 = ㄹ), for particle choice. */
function finalConsonant(s: string): number {
  for (let i = s.length - 1; i >= 0; i--) {
    const ch = s[i]!;
    const code = ch.charCodeAt(0);
    if (code >= 0xac00 && code <= 0xd7a3) return (code - 0xac00) % 28;
    if (/[0-9]/.test(ch)) return DIGIT_FINAL[ch] ?? 0;
    if (/[A-Za-z]/.test(ch)) return /[lmnLMN]/.test(ch) ? 4 : 0;
    if (ch === '%') return 0;
  }
  return 0;
}

/** Replaces `[을/를]`-style markers with the particle the preceding word takes. */
export function resolveParticles(s: string): string {
  return s.replace(/\[(을\/를|이\/가|은\/는|와\/과|으로\/로)\]/g, (_m, p: string, offset: number) => {
    const fc = finalConsonant(s.slice(0, offset));
    const [withFinal, withoutFinal] = PARTICLES[p]!;
    if (p === '으로/로') return fc === 0 || fc === 8 ? withoutFinal : withFinal;
    return fc === 0 ? withoutFinal : withFinal;
  });
}

function fill(core: string, bank: SentenceBank, rnd: () => number): string {
  const picked = new Map<string, number>();
  return core.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const values = bank.slots[name];
    if (!values || values.length === 0) throw new Error(`context bank: no values for slot {${name}}`);
    const group = bank.linked?.find((g) => g.includes(name)) ?? [name];
    const sibling = group.find((g) => picked.has(g));
    const index = sibling === undefined ? Math.floor(rnd() * values.length) : picked.get(sibling)!;
    picked.set(name, index);
    return values[index % values.length]!;
  });
}

/** A prefix that leaves the sentence mid-flow (ends in `,`, `:` or a word) lower-cases an ordinary first word. */
function joinPrefix(prefix: string, sentence: string): string {
  if (prefix === '') return sentence;
  const flows = /[,:]\s*$|[a-z]\s*$/.test(prefix);
  const first = /^[A-Z][a-z']+\b/.exec(sentence)?.[0];
  const ordinary = first !== undefined && !first.startsWith("I'");
  const lowered = flows && ordinary ? sentence[0]!.toLowerCase() + sentence.slice(1) : sentence;
  return prefix + lowered;
}

function capitalise(s: string): string {
  return /^[a-z]/.test(s) ? s[0]!.toUpperCase() + s.slice(1) : s;
}

const PREFIX_RATE = 0.3;
const SUFFIX_RATE = 0.25;

function compose(core: string, bank: SentenceBank, lang: Lang, rnd: () => number): string {
  const plain = core.startsWith('!');
  const body = plain ? core.slice(1) : core;
  let s = fill(body, bank, rnd);
  // A draft written in lower case stays that way; a sentence that only starts lower because a slot
  // value does ("revenue rose …") is capitalised.
  if (lang === 'en' && body.startsWith('{') && !plain) s = capitalise(s);
  if (lang === 'en' && body.startsWith('{') && plain && /[.?!]$/.test(s)) s = capitalise(s);
  if (!plain) {
    if (bank.prefixes.length > 0 && rnd() < PREFIX_RATE)
      s = joinPrefix(bank.prefixes[Math.floor(rnd() * bank.prefixes.length)]!, s);
    const suffixes = bank.suffixes ?? [];
    if (suffixes.length > 0 && /[.?!]$/.test(s) && rnd() < SUFFIX_RATE)
      s += suffixes[Math.floor(rnd() * suffixes.length)]!;
  }
  return lang === 'ko' ? resolveParticles(s) : s;
}

export interface ComposeOptions {
  /** Sentences per category and language (default 110, so 220 per category). */
  readonly perLanguage?: number;
  readonly seed?: number;
}

/**
 * Composes the context pool: for every category and language, cycles through the shuffled cores,
 * filling slots and adding a prefix/suffix, until `perLanguage` distinct sentences exist. A core
 * with slots may appear up to 6 times, a fixed one up to twice, so no sentence shape dominates.
 * Pure and deterministic for a seed.
 */
export function composeContexts(options: ComposeOptions = {}): ContextSample[] {
  const per = options.perLanguage ?? 110;
  const rnd = mulberry32(options.seed ?? 20_250_301);
  const out: ContextSample[] = [];
  for (const [category, byLang] of Object.entries(sentenceBanks())) {
    for (const lang of ['en', 'ko'] as const) {
      const bank = byLang[lang];
      const cores = shuffle([...bank.cores], rnd);
      const uses = new Map<string, number>();
      const seen = new Set<string>();
      const made: string[] = [];
      let stalled = 0;
      for (let i = 0; made.length < per && stalled < cores.length * 20; i++) {
        const core = cores[i % cores.length]!;
        const cap = /\{\w+\}/.test(core) ? 6 : 2;
        if ((uses.get(core) ?? 0) >= cap) {
          stalled += 1;
          continue;
        }
        const s = compose(core, bank, lang, rnd);
        if (seen.has(s)) {
          stalled += 1;
          continue;
        }
        seen.add(s);
        uses.set(core, (uses.get(core) ?? 0) + 1);
        made.push(s);
      }
      if (made.length < per)
        throw new Error(
          `context bank ${category}/${lang}: only ${made.length} distinct sentences, wanted ${per}`,
        );
      made.forEach((text, j) => {
        out.push({
          id: `${category}-${lang}-${String(j + 1).padStart(3, '0')}`,
          category,
          language: lang,
          text,
        });
      });
    }
  }
  return out;
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
