import { mulberry32 } from '../common/random.ts';
import type { RankedOption } from '../schemas/index.ts';
import { allOptions, DEFAULT_VOCABULARY, type OptionVocabulary, optionKey } from '../schemas/index.ts';
import { createDomainPicker } from './domains.ts';
import type { Persona } from './personas/schema.ts';
import type { ContextSample } from './pools/contexts.ts';

/** How the simulator talks to the API: in-process (`app.request`) or over HTTP. */
export interface ApiClient {
  post(
    path: '/recommend' | '/paraphrase' | '/select',
    body: unknown,
  ): Promise<{ status: number; body: unknown }>;
}

/** Moves time on for the bots and lets the views catch up between rounds. */
export interface Pacer {
  /** Simulated (or real) time passes for `ms` before a bot's next step. */
  wait(ms: number): Promise<void>;
  /** After every active user has had a session: the stream catches up. */
  endOfRound(): Promise<void>;
}

export interface SimulationOptions {
  readonly personas: readonly Persona[];
  readonly contexts: readonly ContextSample[];
  readonly sessions: number;
  readonly seed: number;
  /** Bots per persona (default 4); later bots join later, so the run sees new users throughout. */
  readonly usersPerPersona?: number;
  /** Rounds between two cohorts of new users (default 3). */
  readonly cohortGap?: number;
  /** Share of sessions in which a bot types its free style request instead (default 0.1). */
  readonly styleRequestRate?: number;
  /** When a persona has no option distribution: how often it picks its preferred option (default 0.8). */
  readonly preferredShare?: number;
  /** Share of non-accepted sessions that end without any /select (default 0.3). */
  readonly abandonShare?: number;
  /** Share of /recommend requests that declare the document's field (`doc_field`, default 0.5). */
  readonly docFieldRate?: number;
  readonly vocabulary?: OptionVocabulary;
  readonly onProgress?: (done: number, total: number) => void;
}

/** What one simulated session showed and did: the evaluation reads only this. */
export interface SessionRecord {
  readonly persona: string;
  readonly user: string;
  /** Sessions this user had before this one. */
  readonly past: number;
  /** The option this session is measured against: the persona's preference for `domain`. */
  readonly preferred: string;
  /** The document's field: the persona's domain for the document, else the sentence's category. */
  readonly domain?: string;
  /** Whether the request told /recommend the field (`doc_field`). */
  readonly docFieldDeclared?: boolean;
  /** Option keys as /recommend ranked them, rank 1 first. */
  readonly ranked: readonly string[];
  readonly explored: boolean;
  readonly coldStart: boolean;
  readonly degraded: boolean;
  /** The option the bot paraphrased with, or null for a free style request. */
  readonly chosen: string | null;
  readonly outcome: 'accepted' | 'rejected' | 'abandoned';
  readonly language: string;
}

export class SimulationError extends Error {
  readonly code = 'simulation_failed';
  readonly retriable: boolean;
  constructor(message: string, retriable: boolean) {
    super(message);
    this.name = 'SimulationError';
    this.retriable = retriable;
  }
}

function pickWeighted<T>(entries: readonly [T, number][], r: number): T {
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [v, w] of entries) {
    x -= w;
    if (x <= 0) return v;
  }
  return entries[entries.length - 1]![0];
}

/**
 * Plays the personas against the API: each bot runs sessions A → B → C — pick a sentence from the
 * context pool, ask /recommend, choose an option by the persona's taste (sometimes a free style
 * request), ask /paraphrase, then accept or reject by its accept rate, or walk away. A context-free
 * persona writes on every topic, so only personalisation, not the context, can put its option
 * first; a context-dependent one (`domains`, `preferred_by_domain`) writes each document in one of
 * its fields and picks by field, so the context and the user's history both carry signal.
 * Deterministic for a seed when the API and the pacer are.
 */
export async function simulate(o: SimulationOptions, api: ApiClient, pacer: Pacer): Promise<SessionRecord[]> {
  const vocab = o.vocabulary ?? DEFAULT_VOCABULARY;
  const rnd = mulberry32(o.seed);
  const perPersona = o.usersPerPersona ?? 4;
  const gap = o.cohortGap ?? 3;
  const styleRate = o.styleRequestRate ?? 0.1;
  const preferredShare = o.preferredShare ?? 0.8;
  const abandonShare = o.abandonShare ?? 0.3;
  const options: string[] = allOptions(vocab).map(optionKey);
  const byKey = new Map<string, ContextSample[]>();
  for (const c of o.contexts) {
    const k = `${c.category}|${c.language}`;
    byKey.set(k, [...(byKey.get(k) ?? []), c]);
  }
  if (o.contexts.length === 0) throw new SimulationError('the context pool is empty', false);
  // Domains and doc-field declarations draw from their own streams, so a context-free persona's
  // sessions are the same draws as before these existed.
  const domains = createDomainPicker(o.contexts, o.seed, o.docFieldRate ?? 0.5, preferredShare, options);

  const bots = o.personas.flatMap((persona, p) =>
    Array.from({ length: perPersona }, (_, j) => ({
      persona,
      user: `sim-${o.seed}-p${p}-u${j}`,
      joinsAt: j * gap,
      past: 0,
      doc: 0,
      domain: null as string | null,
    })),
  );
  const records: SessionRecord[] = [];
  const call = async (path: '/recommend' | '/paraphrase' | '/select', body: unknown) => {
    const res = await api.post(path, body);
    if (res.status !== 200) {
      throw new SimulationError(
        `${path} answered ${res.status}: ${JSON.stringify(res.body)}`,
        res.status >= 500,
      );
    }
    return res.body as Record<string, unknown>;
  };

  for (let round = 0; records.length < o.sessions; round++) {
    for (const bot of bots) {
      if (bot.joinsAt > round || records.length >= o.sessions) continue;
      const persona = bot.persona;
      const language = persona.languages
        ? pickWeighted(Object.entries(persona.languages) as [string, number][], rnd())
        : rnd() < 0.5
          ? 'ko'
          : 'en';
      if (bot.past % 5 === 0) {
        bot.doc++;
        bot.domain = domains.documentDomain(persona);
      }
      let ctx: ContextSample;
      if (bot.domain !== null) {
        ctx = domains.context(bot.domain, language, rnd());
      } else {
        const category = vocab.categories[Math.floor(rnd() * vocab.categories.length)]!;
        const pool = byKey.get(`${category}|${language}`) ?? byKey.get(`${category}|en`) ?? o.contexts;
        ctx = pool[Math.floor(rnd() * pool.length)]!;
      }
      const domain = bot.domain ?? ctx.category;
      const preferred = domains.expected(persona, domain);
      const declared = domains.declare();
      const rec = await call('/recommend', {
        user_id: bot.user,
        text: ctx.text,
        language: ctx.language,
        doc_id: `${bot.user}-doc-${bot.doc}`,
        ...(declared ? { doc_field: domain } : {}),
      });
      const ranked = (rec.options as RankedOption[]).map((x) => `${x.category}:${x.intensity}`);
      await pacer.wait(5_000);

      const useStyle = persona.style_prompt.trim().length > 0 && rnd() < styleRate;
      let chosen: string | null = null;
      if (!useStyle) {
        if (domains.dependent(persona)) {
          chosen = domains.choose(persona, domain, rnd());
        } else if (persona.option_distribution && Object.keys(persona.option_distribution).length > 0) {
          chosen = pickWeighted(
            Object.entries(persona.option_distribution).filter(([k]) => options.includes(k)) as [
              string,
              number,
            ][],
            rnd(),
          );
        } else {
          chosen = rnd() < preferredShare ? preferred : options[Math.floor(rnd() * options.length)]!;
        }
      }
      const request = chosen
        ? {
            category: chosen.slice(0, chosen.lastIndexOf(':')),
            intensity: chosen.slice(chosen.lastIndexOf(':') + 1),
          }
        : { style_request: persona.style_prompts?.[0] ?? persona.style_prompt };
      const para = await call('/paraphrase', {
        recommend_session_id: rec.recommend_session_id,
        user_id: bot.user,
        text: ctx.text,
        language: ctx.language,
        ...request,
      });
      await pacer.wait(10_000);
      const candidates = (para.candidates as string[]).length;
      let outcome: SessionRecord['outcome'];
      if (rnd() < persona.accept_rate) {
        outcome = 'accepted';
        await call('/select', {
          recommend_session_id: rec.recommend_session_id,
          user_id: bot.user,
          chosen_index: Math.floor(rnd() * candidates),
        });
      } else if (rnd() < abandonShare) {
        outcome = 'abandoned';
      } else {
        outcome = 'rejected';
        await call('/select', {
          recommend_session_id: rec.recommend_session_id,
          user_id: bot.user,
          chosen_index: null,
        });
      }
      records.push({
        persona: persona.name,
        user: bot.user,
        past: bot.past,
        preferred,
        domain,
        docFieldDeclared: declared,
        ranked,
        explored: rec.explored === true,
        coldStart: rec.cold_start === true,
        degraded: rec.degraded === true,
        chosen,
        outcome,
        language: ctx.language,
      });
      bot.past++;
      o.onProgress?.(records.length, o.sessions);
      await pacer.wait(30_000);
    }
    await pacer.endOfRound();
  }
  return records;
}
