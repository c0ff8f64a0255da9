import type {
  ParaphraseEvent,
  RecommendEvent,
  SelectionEvent,
  SourceEventRef,
  TrainingExample,
} from '../../schemas/index.ts';
import { SCHEMA_VERSION } from '../../schemas/index.ts';
import type { SessionRecord } from './session-join.ts';

/** One event a session holds, with its event time in ms. */
export interface Held {
  readonly rec: SessionRecord;
  readonly ts: number;
  /** `rec.event.event_id`, kept at hand: duplicate checks and sorting compare it often. */
  readonly id: string;
  /**
   * The session revision that last emitted this event (0: never emitted yet). The session's last
   * emission is the set of its events marked with its current revision (see `sameAsEmitted`).
   */
  rev: number;
}

/** What a session holds at one moment (B and C sorted by time): the input of `buildExample`. */
export interface Content {
  readonly a: Held | null;
  readonly bs: readonly Held[];
  readonly cs: readonly Held[];
}

function ref(h: Held): SourceEventRef {
  return {
    event_id: h.rec.event.event_id,
    type: h.rec.event.type,
    topic: h.rec.topic,
    partition: h.rec.partition,
    offset: h.rec.offset,
  };
}

/** Refs of one type's events, by event id (the order `source_events` lists them in). */
function refsById(list: readonly Held[], out: SourceEventRef[]): void {
  const from = out.length;
  for (let i = 0; i < list.length; i++) out.push(ref(list[i]!));
  // Held lists are sorted by time; by id they usually are too, and ids are distinct in a session.
  for (let i = from + 1; i < out.length; i++) {
    const x = out[i]!;
    let j = i - 1;
    while (j >= from && out[j]!.event_id > x.event_id) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = x;
  }
}

/**
 * Of a time-sorted list, the first event with the latest time (what a left-to-right scan keeping
 * the first maximum finds): equal times may carry different ISO spellings, so which one matters.
 */
function firstLatest(list: readonly Held[]): Held | null {
  let i = list.length - 1;
  if (i < 0) return null;
  const ts = list[i]!.ts;
  while (i > 0 && list[i - 1]!.ts === ts) i--;
  return list[i]!;
}

/**
 * Builds H from the session's content; pure and deterministic in the content alone. Called for
 * every emitted revision, so it walks the (small, sorted) lists directly instead of building
 * intermediate arrays: the result is the same object, field for field and in the same order.
 */
export function buildExample(
  sessionId: string,
  revision: number,
  c: Content,
  closedBy: TrainingExample['closed_by'],
  late: boolean,
  gapMs: number,
): TrainingExample {
  const ha = c.a;
  const hbs = c.bs;
  const hcs = c.cs;
  const nb = hbs.length;
  const nc = hcs.length;
  const a = ha ? (ha.rec.event as RecommendEvent) : null;
  const cEv = nc > 0 ? (hcs[nc - 1]!.rec.event as SelectionEvent) : null;
  const lastB = nb > 0 ? (hbs[nb - 1]!.rec.event as ParaphraseEvent) : null;
  // The earliest and latest of A, Bs, Cs in that order, the first one on ties (lists are sorted).
  let first: Held | null = ha;
  if (nb > 0 && (first === null || hbs[0]!.ts < first.ts)) first = hbs[0]!;
  if (nc > 0 && (first === null || hcs[0]!.ts < first.ts)) first = hcs[0]!;
  let last: Held | null = ha;
  const lb = firstLatest(hbs);
  if (lb !== null && (last === null || lb.ts > last.ts)) last = lb;
  const lc = firstLatest(hcs);
  if (lc !== null && (last === null || lc.ts > last.ts)) last = lc;
  if (first === null || last === null) throw new Error('buildExample: empty session content');

  // Consistency reasons: "low" ones make it low; two or more of any kind too.
  const reasons: string[] = [];
  let lows = 0;
  if (!a) {
    reasons.push('missing recommend (A)');
    lows++;
  }
  if (!lastB && cEv) {
    reasons.push('selection (C) without a paraphrase (B)');
    lows++;
  }
  if (a && !lastB && !cEv) reasons.push('not paraphrased: the session closed after A');
  if (lastB && !cEv) reasons.push('no selection (C): abandoned after paraphrase');
  const aTs = ha?.ts;
  const bTs = nb > 0 ? hbs[0]!.ts : undefined;
  const lastBTs = nb > 0 ? hbs[nb - 1]!.ts : undefined;
  const cTs = nc > 0 ? hcs[nc - 1]!.ts : undefined;
  if (
    (aTs !== undefined && bTs !== undefined && bTs < aTs) ||
    (lastBTs !== undefined && cTs !== undefined && cTs < lastBTs)
  ) {
    reasons.push('out-of-order event times');
  } else {
    if (aTs !== undefined && bTs !== undefined && bTs - aTs > gapMs) {
      reasons.push(`implausible gap A→B of ${Math.round((bTs - aTs) / 1000)} s`);
    }
    if (lastBTs !== undefined && cTs !== undefined && cTs - lastBTs > gapMs) {
      reasons.push(`implausible gap B→C of ${Math.round((cTs - lastBTs) / 1000)} s`);
    }
  }
  if (cEv && cEv.chosen_index !== null && lastB && cEv.chosen_index >= lastB.candidates.length) {
    reasons.push(`chosen_index ${cEv.chosen_index} out of range of ${lastB.candidates.length} candidates`);
    lows++;
  }
  if (late) reasons.push('late event within grace');
  const consistency = lows > 0 || reasons.length >= 2 ? 'low' : reasons.length === 1 ? 'medium' : 'high';

  const outcome: TrainingExample['outcome'] = cEv
    ? cEv.chosen_index === null
      ? 'rejected'
      : cEv.edited
        ? 'edited'
        : 'accepted'
    : lastB
      ? 'rejected'
      : a
        ? 'not_paraphrased'
        : 'unknown';

  const req = lastB?.request;
  const chosen = req && 'category' in req ? { category: req.category, intensity: req.intensity } : null;
  const styleRequest = req && 'style_request' in req ? req.style_request : null;
  const acceptedText =
    cEv && cEv.chosen_index !== null ? (cEv.final_text ?? lastB?.candidates[cEv.chosen_index] ?? null) : null;

  // By type (A, B, C), then event id.
  const sources: SourceEventRef[] = [];
  if (ha) sources.push(ref(ha));
  refsById(hbs, sources);
  refsById(hcs, sources);
  const paraphrases: TrainingExample['paraphrases'] = [];
  for (let i = 0; i < nb; i++) {
    const b = hbs[i]!.rec.event as ParaphraseEvent;
    paraphrases.push({
      event_id: b.event_id,
      ts: b.ts,
      request: b.request,
      candidates: b.candidates,
      provider: b.llm.provider,
      model: b.llm.model,
      variant: b.llm.variant,
      prompt_tokens: b.llm.prompt_tokens,
      completion_tokens: b.llm.completion_tokens,
      latency_ms: b.llm.latency_ms,
    });
  }

  return {
    type: 'training_example',
    event_id: `h:${sessionId}:${revision}`,
    schema_version: SCHEMA_VERSION,
    ts: last.rec.event.ts,
    user_id: (a ?? first.rec.event).user_id,
    recommend_session_id: sessionId,
    revision,
    funnel: `${a ? 'A' : ''}${lastB ? 'B' : ''}${cEv ? 'C' : ''}`,
    closed_by: closedBy,
    doc_id: a?.doc_id ?? null,
    context: a?.context ?? null,
    recommended: a
      ? {
          event_id: a.event_id,
          ts: a.ts,
          options: a.options,
          alpha: a.alpha,
          beta: a.beta,
          variant: a.variant,
          explored: a.explored,
          model_version: a.model_version,
          profile_version: a.profile_version,
          cluster_id: a.inputs?.cluster_id ?? null,
        }
      : null,
    paraphrases,
    selection: cEv
      ? {
          event_id: cEv.event_id,
          ts: cEv.ts,
          chosen_index: cEv.chosen_index,
          final_text: cEv.final_text ?? null,
          edited: cEv.edited,
        }
      : null,
    chosen_option: chosen,
    style_request: styleRequest,
    accepted_text: acceptedText,
    outcome,
    consistency,
    consistency_reasons: reasons,
    source_events: sources,
  };
}
