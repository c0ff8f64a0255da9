import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abSummary, foldExamples } from '../../analytics/ab.ts';
import { kpisOf } from '../../analytics/kpis.ts';
import type { DashboardPanels } from '../../analytics/kpis-panels.ts';
import { createOfflineParaphraser } from '../../api/paraphrase/offline-paraphraser.ts';
import type { Paraphraser } from '../../api/paraphrase/paraphraser.ts';
import { createEmbeddedWheel, type EmbeddedWheel } from '../../app/embedded-wheel.ts';
import type { TrainingExample } from '../../schemas/index.ts';
import { evaluate, type RunReport } from '../../simulator/evaluate.ts';
import { loadPersonas } from '../../simulator/personas/schema.ts';
import { loadContextPool } from '../../simulator/pools/contexts.ts';
import { inProcessClient, wheelPacer } from '../../simulator/run-evaluation.ts';
import { simulate } from '../../simulator/simulate.ts';
import { decodeExample } from '../../streams/codec/session-codec.ts';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core): after a small
 * simulated run on the embedded wheel, every panel renders its charts without a console error,
 * and the numbers on the page are the JSON's, the simulator report's and those the same
 * analytics compute from H read straight off the log.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!hasChromium && !inCi)
  console.warn(
    `dashboard e2e skipped: no ${CHROMIUM} (apt-get install -y chromium); under CI=true this is a failure`,
  );
// The flags ../shared/INFRA-NOTES.md lists for this kind of machine.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = join(process.cwd(), 'reports', 'screenshots');

/** Variant B: the offline paraphraser with twice the prompt, so the A/B panel has two arms that differ in cost. */
function variantB(): Paraphraser {
  const off = createOfflineParaphraser();
  return {
    ...off,
    model: 'offline-paraphraser-b',
    async paraphrase(input) {
      const out = await off.paraphrase(input);
      return { ...out, promptTokens: out.promptTokens * 2 };
    },
  };
}

describe.runIf(hasChromium || inCi)('the dashboard in a browser (embedded wheel)', () => {
  let wheel: EmbeddedWheel;
  let report: RunReport;
  let server: ReturnType<typeof serve> | undefined;
  let base = '';
  let context: BrowserContext | undefined;
  let userDataDir = '';

  beforeAll(async () => {
    expect(hasChromium, `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    let n = 0;
    wheel = await createEmbeddedWheel({
      seed: 11,
      clusters: 4,
      paraphraserB: variantB(),
      newId: () => `d-${++n}`,
    });
    const records = await simulate(
      { personas: loadPersonas().slice(0, 4), contexts: loadContextPool(), sessions: 160, seed: 11 },
      inProcessClient(wheel),
      wheelPacer(wheel),
    );
    report = evaluate(records);
    server = serve({ fetch: wheel.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server!.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    userDataDir = mkdtempSync(join(tmpdir(), 'sentencify-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 1800 },
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('renders every panel and shows the numbers the analytics compute', async () => {
    const page = await context!.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(`${base}/dashboard`);
    expect(res?.status()).toBe(200);
    // Two polls: the request-rate chart draws from the second (a rate needs two samples).
    await page.waitForFunction('Number(document.body.dataset.polls) >= 2', undefined, { timeout: 30_000 });

    for (const panel of ['assets', 'system', 'personalisation', 'ab']) {
      const charts = await page.locator(`[data-testid="panel-${panel}"] canvas`).count();
      expect(charts, `panel ${panel} has a chart`).toBeGreaterThan(0);
    }
    // uPlot draws each chart's series onto its canvas: a chart with data has a non-blank canvas.
    // (A string: this runs in the page, and the Node typecheck has no DOM types.)
    const blank = await page.evaluate(`[...document.querySelectorAll('canvas')].filter((c) => {
      const g = c.getContext('2d');
      if (!g || c.width === 0 || c.height === 0) return true;
      const d = g.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return false;
      return true;
    }).length`);
    expect(blank).toBe(0);
    expect(
      await page.getByTestId('scheduler-none').or(page.getByTestId('scheduler-jobs-table')).count(),
    ).toBe(1);

    const value = async (testid: string) => {
      const v = await page.getByTestId(testid).getAttribute('data-value');
      expect(v, `${testid} shows a number`).not.toBeNull();
      return v === '' ? null : Number(v);
    };
    const json = (await (await fetch(`${base}/api/dashboard`)).json()) as DashboardPanels;
    const h: TrainingExample[] = wheel.log
      .read(wheel.config.topics.trainingExamples)
      .map((r) => decodeExample(r))
      .filter((x): x is TrainingExample => !('code' in x));
    const k = kpisOf(h);
    const ab = abSummary(foldExamples(h));

    // Data assets: the stores' own counts, the log, and H.
    expect(await value('assets-profiles')).toBe(await wheel.profiles.count());
    expect(await value('assets-clusters')).toBe((await wheel.clusters.clusters()).length);
    expect(await value('assets-indexed-contexts')).toBe(await wheel.index.size());
    expect(await value('assets-topic-sentencify_a')).toBe(report.sessions);
    expect(await value('assets-h-sessions')).toBe(k.sessions);
    expect(await value('assets-h-records')).toBe(h.length);
    for (const level of ['high', 'medium', 'low'])
      expect(await value(`assets-consistency-${level}`)).toBe(k.byConsistency[level] ?? 0);
    for (const s of k.stages) expect(await value(`assets-stage-${s.id}`)).toBe(s.sessions);
    expect(await value('assets-dead-letters')).toBe(json.assets.dead_letters_total);

    // Personalisation: the simulator's report (every session closed, so H holds them all) and H.
    expect(await value('personalisation-sessions')).toBe(report.sessions);
    expect(await value('personalisation-acceptance')).toBeCloseTo(report.acceptance_rate, 4);
    expect(await value('personalisation-acceptance')).toBe(k.acceptance);
    expect(await value('personalisation-hit-at-1')).toBe(k.hitAt1);
    for (const c of report.cold_start) {
      const id = c.bucket.replace(/[^A-Za-z0-9_-]+/g, '_');
      expect(await value(`cold-start-${id}-sessions`), `bucket ${c.bucket}`).toBe(c.sessions);
    }
    for (const o of k.optionMix.slice(0, 5)) {
      const id = o.option.replace(/[^A-Za-z0-9_-]+/g, '_');
      expect(await value(`option-mix-${id}-sessions`)).toBe(o.sessions);
    }

    // The A/B experiment: abSummary over H, as the JSON says it.
    expect(ab.variants.map((v) => v.variant)).toEqual(['A', 'B']);
    for (const v of ab.variants) {
      expect(v.sessions).toBeGreaterThan(0);
      expect(await value(`ab-${v.variant}-sessions`)).toBe(v.sessions);
      expect(await value(`ab-${v.variant}-accepted`)).toBe(v.accepted);
      expect(await value(`ab-${v.variant}-acceptance`)).toBe(v.acceptance.estimate);
      expect(await value(`ab-${v.variant}-acceptance-low`)).toBeCloseTo(v.acceptance.low, 12);
      expect(await value(`ab-${v.variant}-acceptance-high`)).toBeCloseTo(v.acceptance.high, 12);
      expect(await value(`ab-${v.variant}-tokens`)).toBe(v.promptTokens + v.completionTokens);
      expect(await value(`ab-${v.variant}-cost-per-accepted`)).toBeCloseTo(v.cost.costPerAccepted!, 12);
    }
    expect(await page.getByTestId('ab-verdict').textContent()).toBe(ab.test.verdict);
    expect(await page.getByTestId('ab-decision').textContent()).toBe(ab.decision);
    expect(json.ab.decision).toBe(ab.decision);

    // System state: the JSON's figures from the metrics registry (the dashboard's own polls excluded).
    expect(await value('system-requests')).toBe(json.system.requests.total);
    expect(json.system.requests.total).toBe(report.sessions * 2 + json.assets.h.stages[2]!.sessions);
    expect(await value('system-llm-calls')).toBe(json.system.llm.calls);
    expect(await value('system-prompt-tokens')).toBe(ab.variants.reduce((s, v) => s + v.promptTokens, 0));

    // Scheduled jobs: the scheduler's status() as the JSON has it (where this process runs one).
    const jobs = Array.isArray(json.scheduler) ? (json.scheduler as { name: string; runs: number }[]) : [];
    for (const j of jobs)
      expect(await value(`scheduler-${j.name.replace(/[^A-Za-z0-9_-]+/g, '_')}-runs`)).toBe(j.runs);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(SCREENSHOTS, 'dashboard.png'))).toBe(true);
    expect(errors).toEqual([]);

    // A price in the query reprices the A/B panel.
    await page.goto(`${base}/dashboard?prompt_per_1k=1&completion_per_1k=2`);
    await page.waitForSelector('body[data-polls]');
    const a = ab.variants[0]!;
    expect(await value('ab-A-cost')).toBeCloseTo(a.promptTokens / 1000 + (2 * a.completionTokens) / 1000, 9);
    await page.close();
    expect(errors).toEqual([]);
  });
});
