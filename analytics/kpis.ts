/**
 * The dashboard's KPI view: a fold of H (and of the dead-letter topic) into the aggregates the
 * panels show — H by consistency and funnel, acceptance and hit@1 over event time, the cold-start
 * curve by the user's session index, the option mix and each A/B variant's outcomes, tokens and
 * LLM latency. Deterministic and free of I/O: time comes from the examples, never the clock.
 *
 * H is at-least-once and revised: a session's later revision (a C within grace) replaces the
 * earlier one's contribution, a replayed or older revision changes nothing. For that the view
 * keeps each session's small contribution until its event time is `reviseHorizonMs` behind the
 * newest example (a revision comes within window + grace of the session's start), and each user's
 * session count (the cold-start curve's x axis).
 */
import type { TrainingExample } from '../schemas/index.ts';
import { optionKey } from '../schemas/index.ts';
import { emptyOutcomes, type VariantOutcomes } from './ab.ts';
import {
  acceptanceRate,
  FUNNEL_STAGES,
  type FunnelStage,
  isAccepted,
  optionMixKey,
  SESSION_INDEX_BUCKETS,
  type SessionIndexBucket,
  sessionIndexBucket,
  stagesReached,
} from './kpi-definitions.ts';

export interface KpiViewOptions {
  /** Width of the acceptance-over-time buckets, in event time (default 1 h). */
  readonly bucketMs?: number;
  /** Buckets kept (oldest dropped first; default 2,000). */
  readonly maxBuckets?: number;
  /** How long a session's contribution is kept for a revision to replace (default 6 h of event time). */
  readonly reviseHorizonMs?: number;
}

interface Contribution {
  readonly revision: number;
  readonly tsMs: number;
  readonly user: string;
  readonly index: number;
  readonly consistency: string;
  readonly funnel: string;
  readonly outcome: string;
  readonly accepted: boolean;
  readonly hit: boolean;
  readonly option: string;
  /** The A/B variant as analytics/ab.ts assigns it (the last paraphrase's); null without B. */
  readonly abVariant: string | null;
  readonly edited: boolean;
  readonly bucket: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Latency of each paraphrase call that reported one. */
  readonly latencies: readonly number[];
  readonly paraphrases: number;
}

export interface RateCounts {
  readonly sessions: number;
  readonly accepted: number;
  /** Sessions whose chosen option was ranked first. */
  readonly hits: number;
}

export interface KpiSnapshot {
  /** Distinct recommend sessions (latest revision each). */
  readonly sessions: number;
  readonly users: number;
  /** H records read, and those that changed nothing (a replay or an older revision). */
  readonly records: number;
  readonly ignored: number;
  readonly undecodable: number;
  readonly accepted: number;
  readonly acceptance: number;
  readonly hitAt1: number;
  readonly byConsistency: Readonly<Record<string, number>>;
  readonly byFunnel: Readonly<Record<string, number>>;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly stages: readonly (FunnelStage & { readonly sessions: number })[];
  /** Sessions per event-time bucket (start in ms), oldest first. */
  readonly timeline: readonly (RateCounts & {
    readonly start: number;
    readonly acceptance: number;
    readonly hitAt1: number;
  })[];
  readonly bucketMs: number;
  readonly coldStart: readonly (RateCounts & {
    readonly bucket: SessionIndexBucket;
    readonly acceptance: number;
    readonly hitAt1: number;
  })[];
  readonly optionMix: readonly {
    readonly option: string;
    readonly sessions: number;
    readonly accepted: number;
  }[];
  /**
   * Each A/B variant's outcomes as analytics/ab.ts's `foldExamples` sums them (sessions that met
   * the paraphraser, latest revision each): the input of `abSummary`.
   */
  readonly ab: readonly VariantOutcomes[];
  readonly deadLetters: Readonly<Record<string, number>>;
  /** Event time (ms) of the newest example, null before the first. */
  readonly newestTs: number | null;
}

type MutableRate = { sessions: number; accepted: number; hits: number };
type MutableOutcomes = { -readonly [K in keyof VariantOutcomes]: VariantOutcomes[K] } & {
  /** Latency → calls: a multiset, so a revision can take its calls out again. */
  latencies: Map<number, number>;
};

const bump = (m: Map<string, number>, k: string, by: number) => {
  const v = (m.get(k) ?? 0) + by;
  if (v === 0) m.delete(k);
  else m.set(k, v);
};

/** The contribution of one example to the view (the user's session index decided by the caller). */
function contributionOf(h: TrainingExample, index: number, bucketMs: number): Contribution {
  const a = h.recommended;
  const ps = h.paraphrases;
  const lastP = ps.length > 0 ? ps[ps.length - 1]! : null;
  const tsMs = Date.parse(h.ts);
  const chosen = h.chosen_option ? optionKey(h.chosen_option) : null;
  const top = a?.options.reduce<(typeof a.options)[number] | null>(
    (m, o) => (m === null || o.rank < m.rank ? o : m),
    null,
  );
  let promptTokens = 0;
  let completionTokens = 0;
  const latencies: number[] = [];
  for (const p of ps) {
    promptTokens += p.prompt_tokens ?? 0;
    completionTokens += p.completion_tokens ?? 0;
    if (typeof p.latency_ms === 'number') latencies.push(p.latency_ms);
  }
  return {
    revision: h.revision,
    tsMs,
    user: h.user_id,
    index,
    consistency: h.consistency,
    funnel: h.funnel,
    outcome: h.outcome,
    accepted: isAccepted(h.outcome),
    hit: chosen !== null && top != null && optionKey(top) === chosen,
    option: optionMixKey(chosen, h.style_request, h.funnel),
    abVariant: lastP?.variant ?? null,
    edited: h.outcome === 'edited',
    bucket: Math.floor(tsMs / bucketMs) * bucketMs,
    promptTokens,
    completionTokens,
    latencies,
    paraphrases: ps.length,
  };
}

/**
 * A KPI view to fold H into. `apply` and `applyDeadLetter` update it; `snapshot()` reads it.
 *
 * @example
 * const view = createKpiView();
 * for (const h of examples) view.apply(h);
 * view.snapshot().acceptance; // accepted / sessions
 */
export function createKpiView(o: KpiViewOptions = {}) {
  const bucketMs = o.bucketMs ?? 3_600_000;
  const maxBuckets = o.maxBuckets ?? 2_000;
  const horizon = o.reviseHorizonMs ?? 6 * 3_600_000;

  const sessions = new Map<string, Contribution>();
  const userSessions = new Map<string, number>();
  const byConsistency = new Map<string, number>();
  const byFunnel = new Map<string, number>();
  const byOutcome = new Map<string, number>();
  const stages = new Map<string, number>();
  const timeline = new Map<number, MutableRate>();
  const coldStart = new Map<string, MutableRate>();
  const optionMix = new Map<string, { sessions: number; accepted: number }>();
  const ab = new Map<string, MutableOutcomes>();
  const deadLetters = new Map<string, number>();
  const total: MutableRate = { sessions: 0, accepted: 0, hits: 0 };
  let records = 0;
  let ignored = 0;
  let undecodable = 0;
  let newestTs: number | null = null;
  let sincePrune = 0;

  const rate = <K>(m: Map<K, MutableRate>, k: K) => {
    let r = m.get(k);
    if (!r) {
      r = { sessions: 0, accepted: 0, hits: 0 };
      m.set(k, r);
    }
    return r;
  };
  const addRate = (r: MutableRate, c: Contribution, s: 1 | -1) => {
    r.sessions += s;
    if (c.accepted) r.accepted += s;
    if (c.hit) r.hits += s;
  };

  function add(c: Contribution, s: 1 | -1): void {
    addRate(total, c, s);
    bump(byConsistency, c.consistency, s);
    bump(byFunnel, c.funnel, s);
    bump(byOutcome, c.outcome, s);
    const reached = stagesReached(c.funnel, c.outcome);
    for (const st of FUNNEL_STAGES) if (reached[st.id]) bump(stages, st.id, s);
    const t = rate(timeline, c.bucket);
    addRate(t, c, s);
    if (t.sessions === 0) timeline.delete(c.bucket);
    addRate(rate(coldStart, sessionIndexBucket(c.index)), c, s);
    const om = optionMix.get(c.option) ?? { sessions: 0, accepted: 0 };
    om.sessions += s;
    if (c.accepted) om.accepted += s;
    if (om.sessions === 0) optionMix.delete(c.option);
    else optionMix.set(c.option, om);
    if (c.abVariant !== null) {
      let v = ab.get(c.abVariant);
      if (!v) {
        v = { ...emptyOutcomes(c.abVariant), latencies: new Map() };
        ab.set(c.abVariant, v);
      }
      v.sessions += s;
      if (c.accepted) v.accepted += s;
      if (c.edited) v.edited += s;
      v.paraphrases += s * c.paraphrases;
      v.promptTokens += s * c.promptTokens;
      v.completionTokens += s * c.completionTokens;
      for (const ms of c.latencies) {
        const n = (v.latencies.get(ms) ?? 0) + s;
        if (n === 0) v.latencies.delete(ms);
        else v.latencies.set(ms, n);
      }
    }
  }

  /** Forget contributions too old to be revised, and buckets beyond the cap. */
  function prune(): void {
    if (newestTs === null) return;
    const before = newestTs - horizon;
    for (const [id, c] of sessions) if (c.tsMs < before) sessions.delete(id);
    if (timeline.size > maxBuckets) {
      const keys = [...timeline.keys()].sort((x, y) => x - y);
      for (const k of keys.slice(0, timeline.size - maxBuckets)) timeline.delete(k);
    }
  }

  return {
    /** Folds one example in; returns whether it changed the view (false: a replay or older revision). */
    apply(h: TrainingExample): boolean {
      records++;
      const prev = sessions.get(h.recommend_session_id);
      if (prev && prev.revision >= h.revision) {
        ignored++;
        return false;
      }
      let index: number;
      if (prev) {
        add(prev, -1);
        index = prev.index;
      } else {
        index = userSessions.get(h.user_id) ?? 0;
        userSessions.set(h.user_id, index + 1);
      }
      const c = contributionOf(h, index, bucketMs);
      sessions.set(h.recommend_session_id, c);
      add(c, 1);
      if (Number.isFinite(c.tsMs) && (newestTs === null || c.tsMs > newestTs)) newestTs = c.tsMs;
      if (++sincePrune >= 1_000) {
        sincePrune = 0;
        prune();
      }
      return true;
    },
    /**
     * Erasure (docs/erasure.md): forgets the user — their session count and every contribution
     * still held (those within the revise horizon), which leave the aggregates too. Older
     * sessions are only in anonymous totals until the view is next rebuilt from the log, where
     * the sink's registry check leaves them out. Returns the contributions removed.
     */
    eraseUser(userId: string): number {
      let removed = 0;
      for (const [id, c] of sessions)
        if (c.user === userId) {
          add(c, -1);
          sessions.delete(id);
          removed++;
        }
      userSessions.delete(userId);
      return removed;
    },
    /** Counts a record of H that did not decode (it never reached a sink either). */
    undecodable(): void {
      records++;
      undecodable++;
    },
    applyDeadLetter(code: string): void {
      bump(deadLetters, code, 1);
    },
    snapshot(): KpiSnapshot {
      const sortedEntries = (m: Map<string, number>) =>
        Object.fromEntries([...m].sort((x, y) => x[0].localeCompare(y[0])));
      const withRates = <T extends MutableRate>(r: T) => ({
        ...r,
        acceptance: acceptanceRate(r.accepted, r.sessions),
        hitAt1: acceptanceRate(r.hits, r.sessions),
      });
      return {
        sessions: total.sessions,
        users: userSessions.size,
        records,
        ignored,
        undecodable,
        accepted: total.accepted,
        acceptance: acceptanceRate(total.accepted, total.sessions),
        hitAt1: acceptanceRate(total.hits, total.sessions),
        byConsistency: sortedEntries(byConsistency),
        byFunnel: sortedEntries(byFunnel),
        byOutcome: sortedEntries(byOutcome),
        stages: FUNNEL_STAGES.map((st) => ({ ...st, sessions: stages.get(st.id) ?? 0 })),
        timeline: [...timeline].sort((x, y) => x[0] - y[0]).map(([start, r]) => ({ start, ...withRates(r) })),
        bucketMs,
        coldStart: SESSION_INDEX_BUCKETS.map((bucket) => ({
          bucket,
          ...withRates(coldStart.get(bucket) ?? { sessions: 0, accepted: 0, hits: 0 }),
        })),
        optionMix: [...optionMix]
          .map(([option, r]) => ({ option, ...r }))
          .sort((x, y) => y.sessions - x.sessions || x.option.localeCompare(y.option)),
        ab: [...ab.values()]
          .map(({ latencies, ...v }) => ({
            ...v,
            // ascending, so the snapshot does not depend on the order H came in
            latenciesMs: [...latencies]
              .sort((x, y) => x[0] - y[0])
              .flatMap(([ms, n]) => new Array<number>(n).fill(ms)),
          }))
          .sort((x, y) => (x.variant < y.variant ? -1 : x.variant > y.variant ? 1 : 0)),
        deadLetters: sortedEntries(deadLetters),
        newestTs,
      };
    },
  };
}

export type KpiView = ReturnType<typeof createKpiView>;

/** The view of a list of examples, folded from scratch (reports and tests). */
export function kpisOf(examples: readonly TrainingExample[], o: KpiViewOptions = {}): KpiSnapshot {
  const view = createKpiView(o);
  for (const h of examples) view.apply(h);
  return view.snapshot();
}
