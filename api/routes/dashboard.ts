import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { priceFrom, type TokenPrice } from '../../analytics/cost.ts';
import type { KpiView } from '../../analytics/kpis.ts';
import { dashboardPanels, type MetricJson, type RateSample } from '../../analytics/kpis-panels.ts';
import { ASSETS, DEFAULT_OUT_DIR, ensureDashboardBuilt } from '../../dashboard/build.ts';
import { ApiError } from '../errors.ts';
import type { RouteContext } from './context.ts';

/** What the dashboard reads besides the API's own dependencies (stores, index, metrics, clock). */
export interface DashboardSources {
  /** The KPI view this process folds from H (the `kpis` role). */
  readonly kpis: KpiView;
  /** Records per topic; the log's end offsets summed. */
  readonly eventsPerTopic?: () => Promise<Record<string, number>>;
  /** The scheduler's jobs (last run, duration, result), when this process runs one. */
  readonly scheduler?: { status(): unknown } | null;
  /** The price per 1k tokens the A/B panel costs with (default analytics' DEFAULT_TOKEN_PRICE). */
  readonly price?: TokenPrice;
  /** `embedded` (npm start) or `services` (npm run api): shown on the page. */
  readonly mode: string;
  /** Where the built page is (default dist/dashboard). */
  readonly assetsDir?: string;
}

/** A store that is away gives an empty tile, not a failed dashboard. */
async function orNull<T>(f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch {
    return null;
  }
}

function queryPrice(base: TokenPrice | undefined, q: (k: string) => string | undefined): TokenPrice {
  const num = (k: string) => {
    const v = q(k);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new ApiError('invalid_request', `${k} must be a number >= 0, got "${v}"`, { status: 400 });
    return n;
  };
  const promptPer1k = num('prompt_per_1k');
  const completionPer1k = num('completion_per_1k');
  return priceFrom({
    ...base,
    ...(promptPer1k !== undefined ? { promptPer1k } : {}),
    ...(completionPer1k !== undefined ? { completionPer1k } : {}),
  });
}

/**
 * `/dashboard` (the page, built from dashboard/page/ with esbuild, served from this process) and
 * `/api/dashboard` (every panel as JSON, which the page polls). The JSON reads the materialised
 * views only: the KPI view folded from H, the profile and cluster stores' counts, the vector
 * index's size, this process's metrics registry and the log's topic ends. Admin scope where keys
 * are configured (api/auth/scopes.ts). `?prompt_per_1k=&completion_per_1k=` reprices the A/B panel.
 */
export function dashboardRoutes(ctx: RouteContext, sources: DashboardSources | undefined) {
  const { deps } = ctx;
  const dir = sources?.assetsDir ?? DEFAULT_OUT_DIR;
  let previous: RateSample | null = null;
  let primed = false;

  const page = async (file: string) => {
    await ensureDashboardBuilt(dir);
    return readFile(join(dir, file));
  };

  return new Hono()
    .get('/api/dashboard', async (c) => {
      if (!sources)
        throw new ApiError('not_found', 'this process keeps no KPI view, so it serves no dashboard', {
          status: 404,
        });
      const price = queryPrice(sources.price, (k) => c.req.query(k));
      // Mirrored gauges (sink lag, index size) come into being in their first collection, which
      // only a scrape runs; once they exist, reading the registry refreshes them. So collect once.
      if (!primed) {
        await deps.metrics.render();
        primed = true;
      }
      const [metrics, eventsPerTopic, profiles, clusters, indexed] = await Promise.all([
        deps.metrics.register.getMetricsAsJSON() as Promise<unknown> as Promise<MetricJson[]>,
        sources.eventsPerTopic ? orNull(sources.eventsPerTopic) : Promise.resolve(null),
        orNull(() => deps.profiles.count()),
        orNull(async () => (await deps.clusters.clusters()).length),
        orNull(() => deps.index.size()),
      ]);
      const { panels, sample } = dashboardPanels({
        kpis: sources.kpis.snapshot(),
        metrics,
        eventsPerTopic,
        profiles,
        clusters,
        indexedContexts: indexed,
        now: deps.clock(),
        previous,
        wallNow: Date.now(),
        price,
        scheduler: sources.scheduler ? sources.scheduler.status() : null,
        mode: sources.mode,
      });
      previous = sample;
      return c.json(panels);
    })
    .get('/dashboard', async (c) =>
      c.body(await page('index.html'), 200, { 'content-type': ASSETS['index.html']! }),
    )
    .get('/dashboard/:file', async (c) => {
      const file = c.req.param('file');
      // Own keys only: `constructor`, `__proto__` or `toString` are on every object's prototype.
      const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
      if (!type || file === 'index.html')
        throw new ApiError('not_found', `no dashboard asset ${file}`, { status: 404 });
      return c.body(await page(file), 200, { 'content-type': type, 'cache-control': 'no-cache' });
    });
}
