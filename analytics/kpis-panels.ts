/**
 * The dashboard's panels as JSON, from what the process already keeps: the KPI view's snapshot,
 * the metrics registry's values (prom-client's `getMetricsAsJSON()`, not the text), the stores'
 * counts and the log's topic ends. Pure: the route gathers the inputs and the time.
 */
import { type AbSummary, abSummary } from './ab.ts';
import type { TokenPrice } from './cost.ts';
import { ACCEPTANCE, COST_PER_ACCEPTED, DEFAULT_PRICE, describePrice, HIT_AT_1 } from './kpi-definitions.ts';
import type { KpiSnapshot } from './kpis.ts';

/** One metric as prom-client's `Registry.getMetricsAsJSON()` returns it. */
export interface MetricJson {
  readonly name: string;
  readonly type: string;
  readonly values: readonly {
    readonly value: number;
    readonly labels: Readonly<Record<string, string | number | undefined>>;
    readonly metricName?: string;
  }[];
}

export interface PanelInputs {
  readonly kpis: KpiSnapshot;
  readonly metrics: readonly MetricJson[];
  /** Records per topic (the log's end offsets summed over partitions); null when unknown. */
  readonly eventsPerTopic: Readonly<Record<string, number>> | null;
  readonly profiles: number | null;
  readonly clusters: number | null;
  readonly indexedContexts: number | null;
  /** The process's clock, ms (the embedded wheel's is simulated). */
  readonly now: number;
  /** The previous poll's request and LLM-call totals and its wall time, for rates. */
  readonly previous: RateSample | null;
  /** Wall time of this poll, ms (rates are per wall-clock second). */
  readonly wallNow: number;
  readonly price?: TokenPrice;
  /** The scheduler's `status()`, or null when this process runs none. */
  readonly scheduler: unknown;
  readonly mode: string;
}

export interface RateSample {
  readonly atMs: number;
  readonly requests: number;
  readonly errors: number;
}

/** Routes of the dashboard itself, left out of the request figures (its polling is not traffic). */
const OWN_ROUTE = /^\/(api\/)?dashboard/;

type Values = MetricJson['values'];

function valuesOf(metrics: readonly MetricJson[], name: string): Values {
  return metrics.find((m) => m.name === name)?.values ?? [];
}

function sumBy(values: Values, key: (l: Values[number]['labels']) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const k = key(v.labels);
    if (k !== null) out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
}

/**
 * The q-quantile (0–1) of a Prometheus histogram's cumulative buckets, interpolated linearly inside
 * the bucket the rank falls in (as PromQL's histogram_quantile); null without observations. Above
 * the last finite bound it answers that bound.
 */
export function histogramQuantile(
  buckets: readonly { le: number; count: number }[],
  q: number,
): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** A histogram's buckets summed over the series `keep` selects. */
function histogramBuckets(
  metrics: readonly MetricJson[],
  name: string,
  keep: (labels: Values[number]['labels']) => boolean = () => true,
): { buckets: { le: number; count: number }[]; count: number; sum: number } {
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const v of valuesOf(metrics, name)) {
    if (!keep(v.labels)) continue;
    if (v.metricName === `${name}_bucket`) {
      const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + v.value);
    } else if (v.metricName === `${name}_count`) count += v.value;
    else if (v.metricName === `${name}_sum`) sum += v.value;
  }
  return { buckets: [...byLe].map(([le, c]) => ({ le, count: c })), count, sum };
}

function percentiles(h: ReturnType<typeof histogramBuckets>) {
  return {
    count: h.count,
    mean: h.count > 0 ? h.sum / h.count : null,
    p50: histogramQuantile(h.buckets, 0.5),
    p95: histogramQuantile(h.buckets, 0.95),
    p99: histogramQuantile(h.buckets, 0.99),
  };
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/** The A/B summary with NaN (no data) as null, so it survives JSON. */
function abJson(s: AbSummary) {
  return {
    ...s,
    variants: s.variants.map((v) => ({
      ...v,
      tokensPerSession: finiteOrNull(v.tokensPerSession),
      acceptance: { ...v.acceptance, estimate: finiteOrNull(v.acceptance.estimate) },
      latency: {
        mean: finiteOrNull(v.latency.mean),
        p50: finiteOrNull(v.latency.p50),
        p95: finiteOrNull(v.latency.p95),
        p99: finiteOrNull(v.latency.p99),
        n: v.latency.n,
      },
    })),
  };
}

/**
 * Every panel of `/api/dashboard`. `sample` is this poll's totals, for the next poll's rates.
 *
 * @example
 * const { panels, sample } = dashboardPanels({ kpis: view.snapshot(), metrics: await register.getMetricsAsJSON(), … });
 */
export function dashboardPanels(i: PanelInputs) {
  const k = i.kpis;
  const m = i.metrics;
  const price = i.price ?? DEFAULT_PRICE;

  const notOwn = (l: Values[number]['labels']) => !OWN_ROUTE.test(String(l.route ?? ''));
  const requests = valuesOf(m, 'sentencify_http_requests_total').filter((v) => notOwn(v.labels));
  const requestTotal = requests.reduce((s, v) => s + v.value, 0);
  const errorTotal = requests.filter((v) => Number(v.labels.status) >= 500).reduce((s, v) => s + v.value, 0);
  const clientErrors = requests
    .filter((v) => Number(v.labels.status) >= 400 && Number(v.labels.status) < 500)
    .reduce((s, v) => s + v.value, 0);
  const dt = i.previous ? (i.wallNow - i.previous.atMs) / 1000 : 0;
  const rate = (now: number, before: number | undefined) =>
    i.previous && dt > 0 ? Math.max(0, now - (before ?? 0)) / dt : null;

  const sinkLag = sumBy(valuesOf(m, 'sentencify_sink_lag_records'), (l) => String(l.sink));
  const sinkUp = sumBy(valuesOf(m, 'sentencify_sink_up'), (l) => String(l.sink));
  const sinkRecords = sumBy(valuesOf(m, 'sentencify_sink_records_total'), (l) => String(l.sink));
  const sinkNames = [...new Set([...Object.keys(sinkLag), ...Object.keys(sinkRecords)])].sort();
  const llmCalls = sumBy(valuesOf(m, 'sentencify_llm_calls_total'), (l) => String(l.outcome));
  const llmTokens = sumBy(valuesOf(m, 'sentencify_llm_tokens_total'), (l) => String(l.kind));
  const joinDeadLetters = sumBy(valuesOf(m, 'sentencify_dead_letters_total'), (l) => String(l.code));

  const ab = abSummary(k.ab, { price });

  return {
    sample: { atMs: i.wallNow, requests: requestTotal, errors: errorTotal } satisfies RateSample,
    panels: {
      mode: i.mode,
      now: i.now,
      definitions: {
        acceptance: ACCEPTANCE.definition,
        hit_at_1: HIT_AT_1.definition,
        cost_per_accepted: COST_PER_ACCEPTED.definition,
        price: describePrice(price),
      },
      assets: {
        events_per_topic: i.eventsPerTopic,
        h: {
          sessions: k.sessions,
          records: k.records,
          users: k.users,
          by_consistency: k.byConsistency,
          by_funnel: k.byFunnel,
          stages: k.stages.map((s) => ({ id: s.id, label: s.label, sessions: s.sessions })),
        },
        profiles: i.profiles,
        clusters: i.clusters,
        indexed_contexts: i.indexedContexts,
        /** From the dead-letter topic (the KPI view); the join's own count where it runs here. */
        dead_letters: k.deadLetters,
        dead_letters_total: Object.values(k.deadLetters).reduce((s, x) => s + x, 0),
        join_dead_letters: Object.keys(joinDeadLetters).length > 0 ? joinDeadLetters : null,
      },
      system: {
        sinks: sinkNames.map((name) => ({
          name,
          lag: sinkLag[name] ?? null,
          up: sinkUp[name] === undefined ? null : sinkUp[name]! > 0,
          records: sinkRecords[name] ?? 0,
        })),
        /** Seconds between the newest H's event time and the process clock. */
        freshness_s: k.newestTs === null ? null : Math.max(0, (i.now - k.newestTs) / 1000),
        requests: {
          total: requestTotal,
          rate_per_s: rate(requestTotal, i.previous?.requests),
          server_errors: errorTotal,
          client_errors: clientErrors,
          error_rate: requestTotal > 0 ? errorTotal / requestTotal : 0,
          latency_ms: percentiles(histogramBuckets(m, 'sentencify_http_request_duration_ms', notOwn)),
        },
        llm: {
          calls: Object.values(llmCalls).reduce((s, x) => s + x, 0),
          errors: llmCalls.error ?? 0,
          latency_ms: percentiles(histogramBuckets(m, 'sentencify_llm_latency_ms')),
          prompt_tokens: llmTokens.prompt ?? 0,
          completion_tokens: llmTokens.completion ?? 0,
        },
      },
      personalisation: {
        sessions: k.sessions,
        acceptance: k.acceptance,
        hit_at_1: k.hitAt1,
        bucket_ms: k.bucketMs,
        timeline: k.timeline.map((t) => ({
          start: t.start,
          sessions: t.sessions,
          acceptance: t.acceptance,
          hit_at_1: t.hitAt1,
        })),
        cold_start: k.coldStart.map((c) => ({
          bucket: c.bucket,
          sessions: c.sessions,
          acceptance: c.acceptance,
          hit_at_1: c.hitAt1,
        })),
        option_mix: k.optionMix,
      },
      ab: abJson(ab),
      scheduler: i.scheduler ?? null,
    },
  };
}

export type DashboardPanels = ReturnType<typeof dashboardPanels>['panels'];
