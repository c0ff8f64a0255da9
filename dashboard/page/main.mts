/**
 * The dashboard page: polls `/api/dashboard` every few seconds and renders its panels with uPlot
 * (bundled by dashboard/build.ts; nothing comes from a CDN). Every number shown is an element
 * with a stable `data-testid` and its raw value in `data-value`, which the browser test reads.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { DashboardPanels } from '../../analytics/kpis-panels.ts';

const POLL_MS = 3_000;
const el = (id: string) => document.getElementById(id)!;

type Fmt = 'int' | 'pct' | 'ms' | 's' | 'rate' | 'usd' | 'num';

function format(v: number | null | undefined, f: Fmt): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return '∞';
  switch (f) {
    case 'int':
      return Math.round(v).toLocaleString('en');
    case 'pct':
      return `${(v * 100).toFixed(1)} %`;
    case 'ms':
      return `${v.toFixed(v < 10 ? 2 : 0)} ms`;
    case 's':
      return `${v.toFixed(1)} s`;
    case 'rate':
      return `${v.toFixed(1)} /s`;
    case 'usd':
      return `$${v.toPrecision(3)}`;
    default:
      return String(Math.round(v * 1e4) / 1e4);
  }
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_');

/** A number element: formatted text, raw value in data-value, a stable test id. */
function num(testid: string, v: number | null | undefined, f: Fmt): HTMLElement {
  const span = document.createElement('span');
  span.dataset.testid = testid;
  span.dataset.value = v === null || v === undefined || Number.isNaN(v) ? '' : String(v);
  span.className = 'value';
  span.textContent = format(v, f);
  return span;
}

function tile(label: string, value: HTMLElement): HTMLElement {
  const d = document.createElement('div');
  d.className = 'tile';
  const l = document.createElement('span');
  l.className = 'label';
  l.textContent = label;
  d.append(l, value);
  return d;
}

type Cell = string | HTMLElement;
function table(testid: string, head: string[], rows: Cell[][]): HTMLTableElement {
  const t = document.createElement('table');
  t.dataset.testid = testid;
  const tr = t.createTHead().insertRow();
  for (const h of head) {
    const th = document.createElement('th');
    th.textContent = h;
    tr.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const row = body.insertRow();
    for (const c of r) row.insertCell().append(c);
  }
  return t;
}

const text = (s: string, testid?: string) => {
  const span = document.createElement('span');
  span.textContent = s;
  if (testid) span.dataset.testid = testid;
  return span;
};

// ---- charts (uPlot), created once per shape and updated with setData ----

const charts = new Map<string, { plot: uPlot; shape: string }>();

function chart(id: string, shape: string, make: () => uPlot.Options, data: uPlot.AlignedData): void {
  const cur = charts.get(id);
  if (cur && cur.shape === shape) {
    cur.plot.setData(data);
    return;
  }
  cur?.plot.destroy();
  const host = el(id);
  host.replaceChildren();
  charts.set(id, { plot: new uPlot(make(), data, host), shape });
}

const bars = uPlot.paths.bars!({ size: [0.6, 80] });

/** A bar chart over categories (x = 0..n-1, labelled). */
function barChart(
  id: string,
  labels: string[],
  series: { label: string; values: number[]; color: string }[],
) {
  chart(
    id,
    `${labels.join('|')}#${series.map((s) => s.label).join('|')}`,
    () => ({
      width: 280,
      height: 180,
      legend: { show: series.length > 1 },
      // Counts start at 0, or a funnel's drop-off looks larger than it is.
      scales: {
        x: { time: false, range: [-0.5, labels.length - 0.5] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        {
          values: (_u, ticks) => ticks.map((t) => labels[t] ?? ''),
          incrs: [1],
          rotate: labels.length > 3 ? -30 : 0,
          size: labels.length > 3 ? 70 : 30,
        } as uPlot.Axis,
        {},
      ],
      series: [{}, ...series.map((s) => ({ label: s.label, fill: s.color, stroke: s.color, paths: bars }))],
    }),
    [labels.map((_, i) => i), ...series.map((s) => s.values)],
  );
}

function lineChart(
  id: string,
  x: number[],
  series: { label: string; values: (number | null)[]; color: string; scale?: string }[],
  o: { time?: boolean; xLabels?: string[]; width?: number } = {},
) {
  const scales: uPlot.Scales = { x: { time: o.time ?? false } };
  const axes: uPlot.Axis[] = [
    o.xLabels ? { values: (_u, ticks) => ticks.map((t) => o.xLabels![t] ?? ''), incrs: [1] } : {},
    {},
  ];
  if (series.some((s) => s.scale === 'y2')) axes.push({ scale: 'y2', side: 1, grid: { show: false } });
  chart(
    id,
    `${series.map((s) => s.label).join('|')}#${o.xLabels?.join('|') ?? ''}`,
    () => ({
      width: o.width ?? 280,
      height: 180,
      scales,
      axes,
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.scale ?? 'y',
          points: { show: x.length < 30 },
        })),
      ],
    }),
    [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
  );
}

/** Acceptance per variant with its 95 % interval, drawn on a canvas. */
function intervalPlot(variants: DashboardPanels['ab']['variants']) {
  const c = el('chart-ab') as HTMLCanvasElement;
  const g = c.getContext('2d')!;
  const W = c.width;
  const H = c.height;
  g.clearRect(0, 0, W, H);
  g.font = '12px system-ui';
  const left = 60;
  const right = W - 20;
  const x = (p: number) => left + p * (right - left);
  g.strokeStyle = '#ccd';
  g.fillStyle = '#556';
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    g.beginPath();
    g.moveTo(x(t), 10);
    g.lineTo(x(t), H - 20);
    g.stroke();
    g.fillText(`${t * 100} %`, x(t) - 12, H - 5);
  }
  const rowH = (H - 30) / Math.max(1, variants.length);
  variants.forEach((v, i) => {
    const y = 10 + rowH * (i + 0.5);
    g.fillStyle = '#1d2430';
    g.fillText(`${v.variant} (n=${v.sessions})`, 4, y + 4);
    if (v.sessions === 0 || v.acceptance.estimate === null) return;
    g.strokeStyle = i === 0 ? '#3b6fd6' : '#d6783b';
    g.lineWidth = 3;
    g.beginPath();
    g.moveTo(x(v.acceptance.low), y);
    g.lineTo(x(v.acceptance.high), y);
    g.stroke();
    g.fillStyle = g.strokeStyle;
    g.beginPath();
    g.arc(x(v.acceptance.estimate), y, 5, 0, 2 * Math.PI);
    g.fill();
  });
}

// ---- panels ----

const history: { t: number[]; rate: (number | null)[]; p95: (number | null)[] } = {
  t: [],
  rate: [],
  p95: [],
};

function renderAssets(p: DashboardPanels) {
  const a = p.assets;
  const tiles: HTMLElement[] = [];
  for (const [topic, n] of Object.entries(a.events_per_topic ?? {}))
    tiles.push(tile(`events on ${topic}`, num(`assets-topic-${slug(topic)}`, n, 'int')));
  tiles.push(
    tile('H sessions', num('assets-h-sessions', a.h.sessions, 'int')),
    tile('H records', num('assets-h-records', a.h.records, 'int')),
    tile('users in H', num('assets-h-users', a.h.users, 'int')),
    tile('profiles (G)', num('assets-profiles', a.profiles, 'int')),
    tile('clusters (J)', num('assets-clusters', a.clusters, 'int')),
    tile('indexed contexts', num('assets-indexed-contexts', a.indexed_contexts, 'int')),
    tile('dead letters', num('assets-dead-letters', a.dead_letters_total, 'int')),
  );
  el('assets-tiles').replaceChildren(...tiles);
  const levels = ['high', 'medium', 'low'];
  barChart('chart-consistency', levels, [
    { label: 'sessions', values: levels.map((l) => a.h.by_consistency[l] ?? 0), color: '#3b6fd6' },
  ]);
  barChart(
    'chart-funnel',
    a.h.stages.map((s) => s.label),
    [{ label: 'sessions', values: a.h.stages.map((s) => s.sessions), color: '#2f9e6b' }],
  );
  el('assets-tables').replaceChildren(
    table(
      'assets-consistency-table',
      ['consistency', 'sessions'],
      levels.map((l) => [l, num(`assets-consistency-${l}`, a.h.by_consistency[l] ?? 0, 'int')]),
    ),
    table(
      'assets-funnel-table',
      ['stage', 'sessions'],
      a.h.stages.map((s) => [s.label, num(`assets-stage-${s.id}`, s.sessions, 'int')]),
    ),
    table(
      'assets-dead-letters-table',
      ['dead-letter code', 'records'],
      Object.entries(a.dead_letters).map(([code, n]) => [
        code,
        num(`assets-dead-letter-${slug(code)}`, n, 'int'),
      ]),
    ),
  );
}

function renderSystem(p: DashboardPanels) {
  const s = p.system;
  const r = s.requests;
  el('system-tiles').replaceChildren(
    tile('freshness (newest H)', num('system-freshness', s.freshness_s, 's')),
    tile('requests', num('system-requests', r.total, 'int')),
    tile('request rate', num('system-request-rate', r.rate_per_s, 'rate')),
    tile('latency p50', num('system-latency-p50', r.latency_ms.p50, 'ms')),
    tile('latency p95', num('system-latency-p95', r.latency_ms.p95, 'ms')),
    tile('latency p99', num('system-latency-p99', r.latency_ms.p99, 'ms')),
    tile('error rate (5xx)', num('system-error-rate', r.error_rate, 'pct')),
    tile('LLM calls', num('system-llm-calls', s.llm.calls, 'int')),
    tile('LLM latency p50', num('system-llm-p50', s.llm.latency_ms.p50, 'ms')),
    tile('LLM latency p95', num('system-llm-p95', s.llm.latency_ms.p95, 'ms')),
    tile('prompt tokens', num('system-prompt-tokens', s.llm.prompt_tokens, 'int')),
    tile('completion tokens', num('system-completion-tokens', s.llm.completion_tokens, 'int')),
  );
  history.t.push(Date.now() / 1000);
  history.rate.push(r.rate_per_s);
  history.p95.push(r.latency_ms.p95);
  if (history.t.length > 200) for (const k of ['t', 'rate', 'p95'] as const) history[k].shift();
  // A time axis over one point spans years; start drawing from the second poll.
  if (history.t.length >= 2)
    lineChart(
      'chart-requests',
      history.t,
      [
        { label: 'req/s', values: history.rate, color: '#3b6fd6' },
        { label: 'p95 ms', values: history.p95, color: '#d6783b', scale: 'y2' },
      ],
      { time: true, width: 560 },
    );
  el('system-tables').replaceChildren(
    table(
      'system-sinks-table',
      ['sink', 'lag (records)', 'up', 'records applied'],
      s.sinks.map((k) => [
        k.name,
        num(`system-sink-${slug(k.name)}-lag`, k.lag, 'int'),
        text(k.up === null ? '–' : k.up ? 'yes' : 'no', `system-sink-${slug(k.name)}-up`),
        num(`system-sink-${slug(k.name)}-records`, k.records, 'int'),
      ]),
    ),
  );
}

function renderPersonalisation(p: DashboardPanels) {
  const q = p.personalisation;
  el('personalisation-tiles').replaceChildren(
    tile('sessions', num('personalisation-sessions', q.sessions, 'int')),
    tile('acceptance', num('personalisation-acceptance', q.acceptance, 'pct')),
    tile('hit@1', num('personalisation-hit-at-1', q.hit_at_1, 'pct')),
  );
  lineChart(
    'chart-timeline',
    q.timeline.map((t) => t.start / 1000),
    [
      { label: 'acceptance', values: q.timeline.map((t) => t.acceptance), color: '#2f9e6b' },
      { label: 'hit@1', values: q.timeline.map((t) => t.hit_at_1), color: '#3b6fd6' },
    ],
    { time: true },
  );
  lineChart(
    'chart-cold-start',
    q.cold_start.map((_, i) => i),
    [
      {
        label: 'acceptance',
        values: q.cold_start.map((c) => (c.sessions ? c.acceptance : null)),
        color: '#2f9e6b',
      },
      { label: 'hit@1', values: q.cold_start.map((c) => (c.sessions ? c.hit_at_1 : null)), color: '#3b6fd6' },
    ],
    { xLabels: q.cold_start.map((c) => c.bucket) },
  );
  const mix = q.option_mix.slice(0, 12);
  barChart(
    'chart-option-mix',
    mix.map((m) => m.option),
    [
      { label: 'sessions', values: mix.map((m) => m.sessions), color: '#3b6fd6' },
      { label: 'accepted', values: mix.map((m) => m.accepted), color: '#2f9e6b' },
    ],
  );
  el('personalisation-tables').replaceChildren(
    table(
      'personalisation-cold-start-table',
      ['past sessions', 'sessions', 'acceptance', 'hit@1'],
      q.cold_start.map((c) => [
        c.bucket,
        num(`cold-start-${slug(c.bucket)}-sessions`, c.sessions, 'int'),
        num(`cold-start-${slug(c.bucket)}-acceptance`, c.acceptance, 'pct'),
        num(`cold-start-${slug(c.bucket)}-hit-at-1`, c.hit_at_1, 'pct'),
      ]),
    ),
    table(
      'personalisation-option-mix-table',
      ['option', 'sessions', 'accepted'],
      q.option_mix.map((m) => [
        m.option,
        num(`option-mix-${slug(m.option)}-sessions`, m.sessions, 'int'),
        num(`option-mix-${slug(m.option)}-accepted`, m.accepted, 'int'),
      ]),
    ),
  );
}

function renderAb(p: DashboardPanels) {
  const ab = p.ab;
  const verdict = text(ab.test.verdict, 'ab-verdict');
  verdict.className = 'verdict';
  const decision = text(ab.decision, 'ab-decision');
  decision.className = `verdict ${ab.decision === 'blocked by guardrail' ? 'bad' : ab.decision === 'ship B' ? 'good' : ''}`;
  el('ab-tiles').replaceChildren(
    tile(`sequential test (${ab.treatment} vs ${ab.control})`, verdict),
    tile('decision', decision),
    ...ab.guardrails.map((g) => {
      const t = text(
        g.ok ? 'ok' : `over: ${format(g.b, 'num')} > ${format(g.limit, 'num')}`,
        `ab-guardrail-${g.name}`,
      );
      t.className = g.ok ? 'good' : 'bad';
      return tile(`guardrail ${g.name.replace(/_/g, ' ')}`, t);
    }),
  );
  intervalPlot(ab.variants);
  const id = (v: string, what: string) => `ab-${slug(v)}-${what}`;
  el('ab-tables').replaceChildren(
    table(
      'ab-variants-table',
      [
        'variant',
        'sessions',
        'accepted',
        'acceptance',
        '95 % low',
        '95 % high',
        'tokens',
        'tokens/session',
        'LLM p95',
        'cost',
        'cost / accepted',
      ],
      ab.variants.map((v) => [
        v.variant,
        num(id(v.variant, 'sessions'), v.sessions, 'int'),
        num(id(v.variant, 'accepted'), v.accepted, 'int'),
        num(id(v.variant, 'acceptance'), v.acceptance.estimate, 'pct'),
        num(id(v.variant, 'acceptance-low'), v.acceptance.low, 'pct'),
        num(id(v.variant, 'acceptance-high'), v.acceptance.high, 'pct'),
        num(id(v.variant, 'tokens'), v.promptTokens + v.completionTokens, 'int'),
        num(id(v.variant, 'tokens-per-session'), v.tokensPerSession, 'num'),
        num(id(v.variant, 'latency-p95'), v.latency.p95, 'ms'),
        num(id(v.variant, 'cost'), v.cost.totalCost, 'usd'),
        num(id(v.variant, 'cost-per-accepted'), v.cost.costPerAccepted, 'usd'),
      ]),
    ),
    text(`price: ${p.definitions.price}`, 'ab-price'),
  );
}

/** A job of the scheduler's `status()` (common/scheduler.ts JobStatus), read loosely. */
type Job = Record<string, unknown> & { name?: string };

function renderScheduler(p: DashboardPanels) {
  const s = p.scheduler as { jobs?: Job[] } | Job[] | null;
  const jobs = Array.isArray(s) ? s : (s?.jobs ?? null);
  if (!jobs) {
    el('scheduler-tables').replaceChildren(text('no scheduler in this process', 'scheduler-none'));
    return;
  }
  const when = (v: unknown) =>
    typeof v === 'number' ? new Date(v).toISOString().replace('T', ' ').slice(0, 19) : '–';
  el('scheduler-tables').replaceChildren(
    table(
      'scheduler-jobs-table',
      ['job', 'last run', 'duration', 'result', 'runs', 'failures', 'next due', 'detail'],
      jobs.map((j) => {
        const id = (what: string) => `scheduler-${slug(String(j.name ?? ''))}-${what}`;
        const result = text(String(j.lastResult ?? (j.running ? 'running' : '–')), id('result'));
        result.className = j.lastResult === 'ok' ? 'good' : j.lastResult ? 'bad' : '';
        const detail = j.lastError ?? j.lastDetail;
        return [
          String(j.name ?? ''),
          text(when(j.lastRunMs), id('last-run')),
          num(id('duration'), typeof j.lastDurationMs === 'number' ? j.lastDurationMs : null, 'ms'),
          result,
          num(id('runs'), typeof j.runs === 'number' ? j.runs : null, 'int'),
          num(id('failures'), typeof j.failures === 'number' ? j.failures : null, 'int'),
          text(when(j.nextDueMs), id('next-due')),
          text(
            detail === null || detail === undefined
              ? ''
              : typeof detail === 'string'
                ? detail
                : JSON.stringify(detail),
          ),
        ];
      }),
    ),
  );
}

function renderDefinitions(p: DashboardPanels) {
  const d = p.definitions;
  el('definitions').textContent =
    `acceptance = ${d.acceptance}; hit@1 = ${d.hit_at_1}; cost per accepted = ${d.cost_per_accepted}; price: ${d.price}`;
}

// ---- polling ----

let key = sessionStorage.getItem('sentencify-admin-key');

async function poll(): Promise<void> {
  const status = el('status');
  try {
    const res = await fetch(`/api/dashboard${location.search}`, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    if (res.status === 401 || res.status === 403) {
      (el('key') as HTMLFormElement).hidden = false;
      status.textContent = 'an admin API key is needed';
      return;
    }
    if (!res.ok) throw new Error(`/api/dashboard answered ${res.status}`);
    const p = (await res.json()) as DashboardPanels;
    renderAssets(p);
    renderSystem(p);
    renderPersonalisation(p);
    renderAb(p);
    renderScheduler(p);
    renderDefinitions(p);
    status.textContent = `${p.mode} · updated ${new Date().toLocaleTimeString('en-GB')}`;
    status.dataset.updated = String(Date.now());
    document.body.dataset.polls = String(Number(document.body.dataset.polls ?? 0) + 1);
  } catch (err) {
    status.textContent = `update failed: ${(err as Error).message}`;
  }
}

el('key').addEventListener('submit', (e) => {
  e.preventDefault();
  key = new FormData(e.target as HTMLFormElement).get('key') as string;
  sessionStorage.setItem('sentencify-admin-key', key);
  (el('key') as HTMLFormElement).hidden = true;
  void poll();
});
const priceForm = el('price') as HTMLFormElement;
const params = new URLSearchParams(location.search);
for (const k of ['prompt_per_1k', 'completion_per_1k'])
  (priceForm.elements.namedItem(k) as HTMLInputElement).value = params.get(k) ?? '';
priceForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(priceForm)) if (String(v) !== '') q.set(k, String(v));
  location.search = q.toString();
});

void poll();
setInterval(() => void poll(), POLL_MS);
