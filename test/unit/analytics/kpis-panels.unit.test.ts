import { describe, expect, it } from 'vitest';
import { createKpiView } from '../../../analytics/kpis.ts';
import { dashboardPanels, histogramQuantile, type MetricJson } from '../../../analytics/kpis-panels.ts';
import { MetricsRegistry } from '../../../common/metrics.ts';
import { sampleExample } from '../../helpers/golden-contract.ts';

describe('histogramQuantile', () => {
  it('interpolates inside the bucket the rank falls in, as PromQL does', () => {
    const b = [
      { le: 10, count: 50 },
      { le: 20, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(histogramQuantile(b, 0.5)).toBe(10);
    expect(histogramQuantile(b, 0.75)).toBe(15);
    expect(histogramQuantile(b, 0.25)).toBe(5);
    expect(histogramQuantile([{ le: 10, count: 0 }], 0.5)).toBeNull();
    // beyond the last finite bound: that bound
    expect(
      histogramQuantile(
        [
          { le: 10, count: 1 },
          { le: Number.POSITIVE_INFINITY, count: 3 },
        ],
        0.9,
      ),
    ).toBe(10);
  });
});

describe('dashboardPanels', () => {
  async function inputs() {
    const m = new MetricsRegistry();
    for (const ms of [1, 2, 3, 4, 400])
      m.observe('sentencify_http_request_duration_ms', 'x', ms, { route: '/recommend', status: 200 });
    m.observe('sentencify_http_request_duration_ms', 'x', 9_000, { route: '/api/dashboard', status: 200 });
    m.inc('sentencify_http_requests_total', 'x', { route: '/recommend', method: 'POST', status: 200 }, 8);
    m.inc('sentencify_http_requests_total', 'x', { route: '/recommend', method: 'POST', status: 503 }, 2);
    m.inc('sentencify_http_requests_total', 'x', { route: '/select', method: 'POST', status: 400 }, 5);
    m.inc('sentencify_http_requests_total', 'x', { route: '/api/dashboard', method: 'GET', status: 200 }, 99);
    m.inc('sentencify_llm_tokens_total', 'x', { variant: 'A', kind: 'prompt' }, 120);
    m.inc('sentencify_llm_tokens_total', 'x', { variant: 'B', kind: 'prompt' }, 30);
    m.set('sentencify_sink_lag_records', 'x', 7, { sink: 'index' });
    m.set('sentencify_sink_up', 'x', 1, { sink: 'index' });
    const view = createKpiView();
    view.apply(sampleExample('s1'));
    view.applyDeadLetter('too_late');
    return {
      kpis: view.snapshot(),
      metrics: (await m.register.getMetricsAsJSON()) as unknown as MetricJson[],
      eventsPerTopic: { a: 3 },
      profiles: 2,
      clusters: 1,
      indexedContexts: 4,
      now: Date.parse('2026-11-23T09:16:19.900Z'),
      previous: null,
      wallNow: 10_000,
      scheduler: null,
      mode: 'test',
    };
  }

  it('reads requests, errors, latency, tokens and sinks from the registry, leaving the dashboard’s own polls out', async () => {
    const { panels, sample } = dashboardPanels(await inputs());
    expect(panels.system.requests).toMatchObject({
      total: 15,
      server_errors: 2,
      client_errors: 5,
      error_rate: 2 / 15,
      rate_per_s: null,
    });
    expect(panels.system.requests.latency_ms.count).toBe(5);
    expect(panels.system.requests.latency_ms.p50).toBeLessThanOrEqual(5);
    expect(panels.system.requests.latency_ms.p99).toBeLessThanOrEqual(500);
    expect(panels.system.llm.prompt_tokens).toBe(150);
    expect(panels.system.sinks).toEqual([{ name: 'index', lag: 7, up: true, records: 0 }]);
    expect(panels.system.freshness_s).toBe(60);
    expect(sample).toEqual({ atMs: 10_000, requests: 15, errors: 2 });
  });

  it('gives a request rate against the previous poll, and the view’s assets and A/B summary', async () => {
    const i = await inputs();
    const { panels } = dashboardPanels({ ...i, previous: { atMs: 5_000, requests: 5, errors: 0 } });
    expect(panels.system.requests.rate_per_s).toBe(2);
    expect(panels.assets).toMatchObject({
      profiles: 2,
      clusters: 1,
      indexed_contexts: 4,
      dead_letters: { too_late: 1 },
      dead_letters_total: 1,
      h: { sessions: 1, by_consistency: { high: 1 } },
    });
    expect(panels.ab.variants.map((v) => [v.variant, v.sessions])).toEqual([
      ['A', 1],
      ['B', 0],
    ]);
    // no data is null, not NaN, so it survives JSON
    expect(JSON.parse(JSON.stringify(panels.ab)).variants[1].acceptance.estimate).toBeNull();
    expect(panels.ab.decision).toBe('keep running');
  });
});
