/**
 * Fine-tuning export of H (training examples): pure functions, no I/O.
 *
 * - {@link toChatExamples}: one chat-format example per kept session (accepted, or edited when
 *   included), `{ messages: [system, user, assistant], metadata }` — OpenAI fine-tuning chat format
 *   plus a `metadata` object beside `messages`.
 * - {@link toPreferencePairs}: chosen-vs-rejected pairs for preference tuning (DPO): the text the
 *   user kept against the candidates of the same paraphrase they did not pick.
 *
 * Both work on the latest revision of each session ({@link latestRevisions}) and account for every
 * session: it either yields lines or is counted once in `skipped` under the first reason that
 * applies, in this order:
 *
 *   outcome_rejected, outcome_not_paraphrased, outcome_unknown — nothing was kept. A rejected
 *     session (selection with chosen_index null, or no selection after a paraphrase) has no chosen
 *     text, so it gives neither a chat example nor a pair: "every candidate is worse than nothing"
 *     is not a pair DPO can learn from;
 *   edited_excluded        — outcome edited and `includeEdited` is false;
 *   below_min_consistency  — consistency worse than `minConsistency`;
 *   no_context             — no recommend (A), so no sentence to rewrite;
 *   no_paraphrase          — no paraphrase (B), so no request and no candidates;
 *   no_selection / no_chosen_index / chosen_index_out_of_range — the selection does not point at a
 *     candidate of the last paraphrase (the one the selection answers);
 *   edited_without_final_text — edited, but the edited text was not recorded;
 *   empty_text             — the kept text is blank;
 *   no_rejected_candidate  — pairs only: no other candidate differs from the kept text.
 */
import type { Consistency, ParaphraseRequest, TrainingExample } from '../../schemas/index.ts';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** Provenance of a line, kept out of `messages` (strip it if a trainer rejects extra keys). */
export interface ExampleMetadata {
  readonly session_id: string;
  readonly example_id: string;
  readonly revision: number;
  readonly ts: string;
  readonly user_id: string;
  /** `category:intensity`, or null for a free style request. */
  readonly option: string | null;
  readonly style_request: string | null;
  readonly language: string;
  readonly outcome: 'accepted' | 'edited';
  readonly consistency: Consistency;
  /** The paraphrase's LLM variant, provider and model. */
  readonly variant: string;
  readonly provider: string;
  readonly model: string;
  /** The recommend (A) variant, for A/B splits of the training data. */
  readonly recommend_variant: string | null;
  readonly chosen_index: number;
}

export interface ChatExample {
  readonly messages: readonly ChatMessage[];
  readonly metadata?: ExampleMetadata;
}

export interface PairMetadata extends ExampleMetadata {
  readonly rejected_index: number;
}

/**
 * A preference pair. `conversational` (TRL's conversational preference format): `prompt` is the
 * system and user messages, `chosen` and `rejected` one assistant message each. `text`: all three
 * are strings, the prompt being the system prompt and the instruction separated by a blank line.
 */
export interface PreferencePair {
  readonly prompt: readonly ChatMessage[] | string;
  readonly chosen: readonly ChatMessage[] | string;
  readonly rejected: readonly ChatMessage[] | string;
  readonly metadata?: PairMetadata;
}

export const SKIP_REASONS = [
  'outcome_rejected',
  'outcome_not_paraphrased',
  'outcome_unknown',
  'edited_excluded',
  'below_min_consistency',
  'no_context',
  'no_paraphrase',
  'no_selection',
  'no_chosen_index',
  'chosen_index_out_of_range',
  'edited_without_final_text',
  'empty_text',
  'no_rejected_candidate',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface ExportResult<T> {
  readonly lines: T[];
  /** Sessions considered: latest revisions, one per recommend_session_id. */
  readonly sessions: number;
  /** Sessions that gave no line, by the first reason that applied (only reasons that occurred). */
  readonly skipped: Partial<Record<SkipReason, number>>;
}

export interface PairExportResult extends ExportResult<PreferencePair> {
  /** Sessions that gave at least one pair. */
  readonly pairedSessions: number;
  /** Candidates not paired because their text equals the kept text or an earlier rejected one. */
  readonly identical: number;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You rewrite sentences for a writing assistant. Keep the meaning and the language of the sentence, ' +
  'and answer with the rewritten sentence only.';

export interface ExportOptions {
  /** Use sessions whose outcome is `edited`, with the edited text as the kept text (default true). */
  readonly includeEdited?: boolean;
  /**
   * Worst consistency still exported (default 'medium'). Medium sessions of a kept outcome only have
   * timing anomalies (late event, long gap, out-of-order times), which leave the text relation
   * intact; low ones lack A, or point outside the candidates, or stack several anomalies.
   */
  readonly minConsistency?: Consistency;
  readonly systemPrompt?: string;
  /** Add the `metadata` object to each line (default true). */
  readonly metadata?: boolean;
}

export interface PairOptions extends ExportOptions {
  /** Pairs per session at most (default 2): the first non-chosen candidates in candidate order. */
  readonly pairsPerSession?: number;
  readonly format?: 'conversational' | 'text';
}

const CONSISTENCY_RANK: Record<Consistency, number> = { high: 0, medium: 1, low: 2 };

/**
 * The highest revision of each recommend session. Among copies of the same revision the later `ts`
 * wins, then the later one in the input. Sorted by `ts`, then session id.
 */
export function latestRevisions(hs: readonly TrainingExample[]): TrainingExample[] {
  const latest = new Map<string, TrainingExample>();
  for (const h of hs) {
    const cur = latest.get(h.recommend_session_id);
    if (
      !cur ||
      h.revision > cur.revision ||
      (h.revision === cur.revision && Date.parse(h.ts) >= Date.parse(cur.ts))
    )
      latest.set(h.recommend_session_id, h);
  }
  return [...latest.values()].sort(byTsThenSession);
}

function byTsThenSession(x: TrainingExample, y: TrainingExample): number {
  const dt = Date.parse(x.ts) - Date.parse(y.ts);
  if (dt !== 0) return dt;
  return x.recommend_session_id < y.recommend_session_id
    ? -1
    : x.recommend_session_id > y.recommend_session_id
      ? 1
      : 0;
}

/** A session that can be exported: what the user was asked, what they kept, what they passed over. */
interface Usable {
  readonly h: TrainingExample;
  readonly prompt: readonly ChatMessage[];
  readonly kept: string;
  readonly chosenIndex: number;
  readonly candidates: readonly string[];
  readonly metadata: ExampleMetadata;
}

type Resolved =
  | { readonly ok: true; readonly u: Usable }
  | { readonly ok: false; readonly reason: SkipReason };

function resolve(h: TrainingExample, opts: ExportOptions): Resolved {
  const skip = (reason: SkipReason): Resolved => ({ ok: false, reason });
  if (h.outcome === 'rejected') return skip('outcome_rejected');
  if (h.outcome === 'not_paraphrased') return skip('outcome_not_paraphrased');
  if (h.outcome === 'unknown') return skip('outcome_unknown');
  if (h.outcome === 'edited' && opts.includeEdited === false) return skip('edited_excluded');
  if (CONSISTENCY_RANK[h.consistency] > CONSISTENCY_RANK[opts.minConsistency ?? 'medium'])
    return skip('below_min_consistency');
  if (!h.context) return skip('no_context');
  const b = h.paraphrases.at(-1);
  if (!b) return skip('no_paraphrase');
  if (!h.selection) return skip('no_selection');
  const i = h.selection.chosen_index;
  if (i === null) return skip('no_chosen_index');
  if (i < 0 || i >= b.candidates.length) return skip('chosen_index_out_of_range');
  let kept: string;
  if (h.outcome === 'edited') {
    if (h.selection.final_text === null) return skip('edited_without_final_text');
    kept = h.selection.final_text;
  } else {
    kept = b.candidates[i]!;
  }
  if (kept.trim() === '') return skip('empty_text');

  const system = opts.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const prompt: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: instruction(b.request, h.context) },
  ];
  const metadata: ExampleMetadata = {
    session_id: h.recommend_session_id,
    example_id: h.event_id,
    revision: h.revision,
    ts: h.ts,
    user_id: h.user_id,
    option: 'category' in b.request ? `${b.request.category}:${b.request.intensity}` : null,
    style_request: 'style_request' in b.request ? b.request.style_request : null,
    language: h.context.language,
    outcome: h.outcome,
    consistency: h.consistency,
    variant: b.variant,
    provider: b.provider,
    model: b.model,
    recommend_variant: h.recommended?.variant ?? null,
    chosen_index: i,
  };
  return { ok: true, u: { h, prompt, kept, chosenIndex: i, candidates: b.candidates, metadata } };
}

/**
 * The user turn: the option (category · intensity) or the free style request, the language, and the
 * sentence with its neighbours as context when H has them.
 */
export function instruction(
  request: ParaphraseRequest,
  context: NonNullable<TrainingExample['context']>,
): string {
  const want =
    'category' in request
      ? `in the style ${request.category} · ${request.intensity}: the register of ` +
        `${request.category.replace(/_/g, ' ')} writing, with ${request.intensity} intensity of change`
      : `following this request: "${request.style_request}"`;
  const lines = [
    `Rewrite the sentence ${want}.`,
    `Keep it in ${languageName(context.language)}, keep its meaning, and answer with the rewritten sentence only.`,
    '',
  ];
  const prev = context.prev_sentence?.trim();
  const next = context.next_sentence?.trim();
  if (prev) lines.push(`Previous sentence (context, do not rewrite): ${prev}`);
  lines.push(`Sentence: ${context.text}`);
  if (next) lines.push(`Next sentence (context, do not rewrite): ${next}`);
  return lines.join('\n');
}

const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** "Korean (ko)"; the bare tag when the runtime has no name for it. */
export function languageName(tag: string): string {
  let name: string | undefined;
  try {
    name = LANGUAGE_NAMES.of(tag);
  } catch {
    name = undefined;
  }
  return name && name !== tag ? `${name} (${tag})` : tag;
}

function count(skipped: Partial<Record<SkipReason, number>>, reason: SkipReason): void {
  skipped[reason] = (skipped[reason] ?? 0) + 1;
}

/** One chat example per kept session of the latest revisions, ordered by ts then session id. */
export function toChatExamples(
  hs: readonly TrainingExample[],
  opts: ExportOptions = {},
): ExportResult<ChatExample> {
  const sessions = latestRevisions(hs);
  const lines: ChatExample[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  for (const h of sessions) {
    const r = resolve(h, opts);
    if (!r.ok) {
      count(skipped, r.reason);
      continue;
    }
    const messages: ChatMessage[] = [...r.u.prompt, { role: 'assistant', content: r.u.kept }];
    lines.push(opts.metadata === false ? { messages } : { messages, metadata: r.u.metadata });
  }
  return { lines, sessions: sessions.length, skipped };
}

/**
 * Chosen-vs-rejected pairs: for each kept session, the kept text against each candidate of the
 * same (last) paraphrase other than the chosen one, in candidate order, at most `pairsPerSession`.
 * Candidates equal to the kept text (after trimming) or to an earlier rejected one are dropped and
 * counted in `identical`. An edited session pairs the edited text with the other candidates; the
 * candidate the user edited is not used as the rejected side.
 */
export function toPreferencePairs(hs: readonly TrainingExample[], opts: PairOptions = {}): PairExportResult {
  const cap = opts.pairsPerSession ?? 2;
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`pairsPerSession must be ≥ 1, got ${cap}`);
  const format = opts.format ?? 'conversational';
  const sessions = latestRevisions(hs);
  const lines: PreferencePair[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  let pairedSessions = 0;
  let identical = 0;
  for (const h of sessions) {
    const r = resolve(h, opts);
    if (!r.ok) {
      count(skipped, r.reason);
      continue;
    }
    const u = r.u;
    const seen = new Set([u.kept.trim()]);
    const before = lines.length;
    for (let j = 0; j < u.candidates.length && lines.length - before < cap; j++) {
      if (j === u.chosenIndex) continue;
      const rejected = u.candidates[j]!;
      if (seen.has(rejected.trim())) {
        identical++;
        continue;
      }
      seen.add(rejected.trim());
      lines.push(pair(u, rejected, j, format, opts.metadata !== false));
    }
    if (lines.length > before) pairedSessions++;
    else count(skipped, 'no_rejected_candidate');
  }
  return { lines, sessions: sessions.length, skipped, pairedSessions, identical };
}

function pair(
  u: Usable,
  rejected: string,
  rejectedIndex: number,
  format: 'conversational' | 'text',
  withMetadata: boolean,
): PreferencePair {
  const body: PreferencePair =
    format === 'conversational'
      ? {
          prompt: u.prompt,
          chosen: [{ role: 'assistant', content: u.kept }],
          rejected: [{ role: 'assistant', content: rejected }],
        }
      : { prompt: u.prompt.map((m) => m.content).join('\n\n'), chosen: u.kept, rejected };
  return withMetadata ? { ...body, metadata: { ...u.metadata, rejected_index: rejectedIndex } } : body;
}
