import type { TrainingExample } from '../../schemas/index.ts';
import { optionKey } from '../../schemas/index.ts';

/**
 * H → the flattened document of the golden indices (`sentencify-golden-YYYY.MM.DD`) that the Kibana
 * dashboards read. Pure: everything comes from the example (and the price table), nothing from the
 * clock. Field names are H's own where H has the field (`user_id`, `recommend_session_id`,
 * `revision`, `funnel`, `outcome`, `consistency`, `consistency_reasons`, `style_request`, …); the
 * rest are derived and documented in docs/elasticsearch.md.
 */

/** One option as /recommend showed it (mapped as `object`, so Kibana aggregates `shown.*` directly). */
export interface ShownOption {
  readonly option: string;
  readonly category: string;
  readonly intensity: string;
  readonly rank: number;
  /** `rank:option`, e.g. `1:report:strong`: which option sat in which slot, aggregatable without nested. */
  readonly slot: string;
  readonly score: number;
  readonly propensity: number;
  readonly vec: number;
  readonly doc: number;
  readonly user: number;
  readonly cluster: number;
}

export interface GoldenDocument {
  readonly recommend_session_id: string;
  /** H's event id, `h:<session>:<revision>`. */
  readonly event_id: string;
  readonly revision: number;
  readonly user_id: string;
  /** H's event time (the session's last event): the data view's time field. */
  readonly ts: string;
  /** The session's first event time: it picks the daily index, so every revision lands in one. */
  readonly session_ts: string;
  readonly recommend_ts: string | null;
  readonly paraphrase_ts: string | null;
  readonly selection_ts: string | null;
  readonly recommend_event_id: string | null;
  readonly paraphrase_event_ids: readonly string[];
  readonly selection_event_id: string | null;
  readonly funnel: string;
  readonly closed_by: string;
  /** Funnel stages reached (drop-off = the counts of these three). */
  readonly reached_recommend: boolean;
  readonly reached_paraphrase: boolean;
  readonly reached_selection: boolean;
  readonly doc_id: string | null;
  readonly language: string | null;
  readonly doc_field: string | null;
  readonly context_text: string | null;
  readonly prev_sentence: string | null;
  readonly next_sentence: string | null;
  /** A's variant (the experiment arm), else the paraphrase's. */
  readonly variant: string | null;
  readonly explored: boolean | null;
  readonly model_version: string | null;
  readonly profile_version: number | null;
  /** The user had no profile when the options were scored (`profile_version` null or 0). */
  readonly cold_start: boolean | null;
  readonly alpha: number | null;
  readonly beta: number | null;
  /** The user's cluster when A was scored (A's `inputs.cluster_id`, copied into H's `recommended`). */
  readonly cluster: string | null;
  readonly shown: readonly ShownOption[];
  readonly shown_count: number;
  readonly top_option: string | null;
  readonly top_score: number | null;
  /** The option the user paraphrased with (`category:intensity`), null for a free style request. */
  readonly option: string | null;
  readonly option_category: string | null;
  readonly option_intensity: string | null;
  /** The rank the chosen option was shown at (null when it was not among the shown options). */
  readonly option_rank: number | null;
  readonly option_score: number | null;
  readonly option_propensity: number | null;
  readonly style_request: string | null;
  readonly outcome: string;
  /** A candidate was taken (outcome accepted or edited): what acceptance rates count. */
  readonly accepted: boolean;
  readonly edited: boolean;
  readonly rejected: boolean;
  /** `accepted` as 1 / 0: Kibana averages numbers only, so its average is the acceptance rate. */
  readonly acceptance: number;
  readonly consistency: string;
  readonly consistency_reasons: readonly string[];
  readonly provider: string | null;
  readonly model: string | null;
  readonly paraphrase_variant: string | null;
  readonly paraphrase_count: number;
  readonly candidate_count: number | null;
  /** LLM usage summed over the session's paraphrases; null while H does not carry it. */
  readonly prompt_tokens: number | null;
  readonly completion_tokens: number | null;
  readonly total_tokens: number | null;
  readonly llm_latency_ms: number | null;
  /** From the tokens and the price table; 0 for the offline paraphraser; null when unknown. */
  readonly cost_usd: number | null;
  /** A → C and A → first B in ms (event time). */
  readonly time_to_paraphrase_ms: number | null;
  readonly time_to_select_ms: number | null;
}

/** USD per million tokens, by model (`gpt-4o-mini`) or `provider/model`. */
export type PriceTable = Readonly<Record<string, { readonly prompt: number; readonly completion: number }>>;

export interface GoldenDocOptions {
  readonly prices?: PriceTable;
}

/**
 * What a paraphrase entry of H carries about LLM usage once the join copies B's `llm` block into
 * H; optional so the document is forward-compatible with today's H, which lacks it.
 */
interface ParaphraseUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly latency_ms?: number;
  readonly llm?: {
    readonly prompt_tokens?: number;
    readonly completion_tokens?: number;
    readonly latency_ms?: number;
  };
}

/** The document's id, version and index day: everything the store needs besides the body. */
export interface GoldenWrite {
  readonly id: string;
  readonly version: number;
  /** `YYYY.MM.DD` (UTC) of the session's first event. */
  readonly day: string;
  /**
   * Other days this session's events fall on: an earlier revision (fewer events) may have gone to
   * one of them, so the store removes it there (external-version delete) to keep one document.
   */
  readonly otherDays: readonly string[];
  readonly doc: GoldenDocument;
}

/** `2026-11-23T09:15:00.000Z` → `2026.11.23`. */
export function indexDay(iso: string): string {
  return `${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
}

function eventTimes(h: TrainingExample): string[] {
  const ts: string[] = [];
  if (h.recommended) ts.push(h.recommended.ts);
  for (const p of h.paraphrases) ts.push(p.ts);
  if (h.selection) ts.push(h.selection.ts);
  if (ts.length === 0) ts.push(h.ts);
  // ISO-8601 UTC strings of one format sort as times do.
  return ts.sort();
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

function usageOf(p: ParaphraseUsage) {
  return {
    prompt: p.prompt_tokens ?? p.llm?.prompt_tokens,
    completion: p.completion_tokens ?? p.llm?.completion_tokens,
    latency: p.latency_ms ?? p.llm?.latency_ms,
  };
}

/** H → its golden document and where it goes. */
export function goldenWrite(h: TrainingExample, o: GoldenDocOptions = {}): GoldenWrite {
  const doc = goldenDocument(h, o);
  const days = [...new Set(eventTimes(h).map(indexDay))];
  const day = indexDay(doc.session_ts);
  return {
    id: h.recommend_session_id,
    version: h.revision,
    day,
    otherDays: days.filter((d) => d !== day),
    doc,
  };
}

export function goldenDocument(h: TrainingExample, o: GoldenDocOptions = {}): GoldenDocument {
  const a = h.recommended;
  const ps = h.paraphrases;
  const lastP = ps.length > 0 ? ps[ps.length - 1]! : null;
  const times = eventTimes(h);
  const shown: ShownOption[] = (a?.options ?? []).map((r) => {
    const option = optionKey(r);
    return {
      option,
      category: r.category,
      intensity: r.intensity,
      rank: r.rank,
      slot: `${r.rank}:${option}`,
      score: r.score,
      propensity: r.propensity,
      vec: r.components.vec,
      doc: r.components.doc,
      user: r.components.user,
      cluster: r.components.cluster,
    };
  });
  const top = shown.reduce<ShownOption | null>((m, s) => (m === null || s.rank < m.rank ? s : m), null);
  const option = h.chosen_option ? optionKey(h.chosen_option) : null;
  const chosenShown = option ? (shown.find((s) => s.option === option) ?? null) : null;

  const usage = ps.map((p) => usageOf(p as ParaphraseUsage));
  const sum = (xs: (number | undefined)[]) =>
    xs.length > 0 && xs.every((x) => typeof x === 'number')
      ? (xs as number[]).reduce((s, x) => s + x, 0)
      : null;
  const promptTokens = sum(usage.map((u) => u.prompt));
  const completionTokens = sum(usage.map((u) => u.completion));
  const latency = sum(usage.map((u) => u.latency));
  let cost: number | null = null;
  if (lastP && lastP.provider === 'offline') cost = 0;
  else if (lastP && promptTokens !== null && completionTokens !== null) {
    const price = o.prices?.[`${lastP.provider}/${lastP.model}`] ?? o.prices?.[lastP.model];
    if (price) cost = round((promptTokens * price.prompt + completionTokens * price.completion) / 1e6, 8);
  }
  const ms = (from: string | undefined, to: string | undefined) =>
    from !== undefined && to !== undefined ? Date.parse(to) - Date.parse(from) : null;

  return {
    recommend_session_id: h.recommend_session_id,
    event_id: h.event_id,
    revision: h.revision,
    user_id: h.user_id,
    ts: h.ts,
    session_ts: times[0]!,
    recommend_ts: a?.ts ?? null,
    paraphrase_ts: ps[0]?.ts ?? null,
    selection_ts: h.selection?.ts ?? null,
    recommend_event_id: a?.event_id ?? null,
    paraphrase_event_ids: ps.map((p) => p.event_id),
    selection_event_id: h.selection?.event_id ?? null,
    funnel: h.funnel,
    closed_by: h.closed_by,
    reached_recommend: h.funnel.includes('A'),
    reached_paraphrase: h.funnel.includes('B'),
    reached_selection: h.funnel.includes('C'),
    doc_id: h.doc_id,
    language: h.context?.language ?? null,
    doc_field: h.context?.doc_field ?? null,
    context_text: h.context?.text ?? null,
    prev_sentence: h.context?.prev_sentence ?? null,
    next_sentence: h.context?.next_sentence ?? null,
    variant: a?.variant ?? lastP?.variant ?? null,
    explored: a?.explored ?? null,
    model_version: a?.model_version ?? null,
    profile_version: a?.profile_version ?? null,
    cold_start: a ? a.profile_version === null || a.profile_version === 0 : null,
    alpha: a?.alpha ?? null,
    beta: a?.beta ?? null,
    cluster: h.recommended?.cluster_id == null ? null : String(h.recommended.cluster_id),
    shown,
    shown_count: shown.length,
    top_option: top?.option ?? null,
    top_score: top?.score ?? null,
    option,
    option_category: h.chosen_option?.category ?? null,
    option_intensity: h.chosen_option?.intensity ?? null,
    option_rank: chosenShown?.rank ?? null,
    option_score: chosenShown?.score ?? null,
    option_propensity: chosenShown?.propensity ?? null,
    style_request: h.style_request,
    outcome: h.outcome,
    accepted: h.outcome === 'accepted' || h.outcome === 'edited',
    edited: h.outcome === 'edited',
    rejected: h.outcome === 'rejected',
    acceptance: h.outcome === 'accepted' || h.outcome === 'edited' ? 1 : 0,
    consistency: h.consistency,
    consistency_reasons: h.consistency_reasons,
    provider: lastP?.provider ?? null,
    model: lastP?.model ?? null,
    paraphrase_variant: lastP?.variant ?? null,
    paraphrase_count: ps.length,
    candidate_count: lastP ? lastP.candidates.length : null,
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens !== null && completionTokens !== null ? promptTokens + completionTokens : null,
    llm_latency_ms: latency,
    cost_usd: cost,
    time_to_paraphrase_ms: ms(a?.ts, ps[0]?.ts),
    time_to_select_ms: ms(a?.ts, h.selection?.ts),
  };
}
