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

const TYPE_ORDER = { recommend: 0, paraphrase: 1, selection: 2 } as const;

function ref(h: Held): SourceEventRef {
  return {
    event_id: h.rec.event.event_id,
    type: h.rec.event.type,
    topic: h.rec.topic,
    partition: h.rec.partition,
    offset: h.rec.offset,
  };
}

/** Builds H from the session's content; pure and deterministic in the content alone. */
export function buildExample(
  sessionId: string,
  revision: number,
  c: Content,
  closedBy: TrainingExample['closed_by'],
  late: boolean,
  gapMs: number,
): TrainingExample {
  const a = c.a ? (c.a.rec.event as RecommendEvent) : null;
  const bs = c.bs.map((h) => h.rec.event as ParaphraseEvent);
  const cEv = c.cs.length > 0 ? (c.cs[c.cs.length - 1]!.rec.event as SelectionEvent) : null;
  const lastB = bs.length > 0 ? bs[bs.length - 1]! : null;
  const all: Held[] = [...(c.a ? [c.a] : []), ...c.bs, ...c.cs];
  const first = all.reduce((m, h) => (h.ts < m.ts ? h : m));
  const last = all.reduce((m, h) => (h.ts > m.ts ? h : m));

  const reasons: { text: string; severity: 'low' | 'medium' }[] = [];
  if (!a) reasons.push({ text: 'missing recommend (A)', severity: 'low' });
  if (!lastB && cEv) reasons.push({ text: 'selection (C) without a paraphrase (B)', severity: 'low' });
  if (a && !lastB && !cEv)
    reasons.push({ text: 'not paraphrased: the session closed after A', severity: 'medium' });
  if (lastB && !cEv)
    reasons.push({ text: 'no selection (C): abandoned after paraphrase', severity: 'medium' });
  const aTs = c.a?.ts;
  const bTs = c.bs.length > 0 ? c.bs[0]!.ts : undefined;
  const lastBTs = c.bs.length > 0 ? c.bs[c.bs.length - 1]!.ts : undefined;
  const cTs = c.cs.length > 0 ? c.cs[c.cs.length - 1]!.ts : undefined;
  if (
    (aTs !== undefined && bTs !== undefined && bTs < aTs) ||
    (lastBTs !== undefined && cTs !== undefined && cTs < lastBTs)
  ) {
    reasons.push({ text: 'out-of-order event times', severity: 'medium' });
  } else {
    if (aTs !== undefined && bTs !== undefined && bTs - aTs > gapMs) {
      reasons.push({
        text: `implausible gap A→B of ${Math.round((bTs - aTs) / 1000)} s`,
        severity: 'medium',
      });
    }
    if (lastBTs !== undefined && cTs !== undefined && cTs - lastBTs > gapMs) {
      reasons.push({
        text: `implausible gap B→C of ${Math.round((cTs - lastBTs) / 1000)} s`,
        severity: 'medium',
      });
    }
  }
  if (cEv && cEv.chosen_index !== null && lastB && cEv.chosen_index >= lastB.candidates.length) {
    reasons.push({
      text: `chosen_index ${cEv.chosen_index} out of range of ${lastB.candidates.length} candidates`,
      severity: 'low',
    });
  }
  if (late) reasons.push({ text: 'late event within grace', severity: 'medium' });
  const lows = reasons.filter((r) => r.severity === 'low').length;
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

  const sources = all.map(ref);
  sources.sort((x, y) => TYPE_ORDER[x.type] - TYPE_ORDER[y.type] || (x.event_id < y.event_id ? -1 : 1));

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
    paraphrases: bs.map((b) => ({
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
    })),
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
    consistency_reasons: reasons.map((r) => r.text),
    source_events: sources,
  };
}
