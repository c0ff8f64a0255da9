import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Metrics through prom-client, behind the few calls the code makes (`inc`, `set`, `observe`), so
 * every process uses one naming scheme (`sentencify_<what>_<unit>`, counters end in `_total`) and
 * the same registry type: `/metrics` renders it, and with API workers the primary aggregates the
 * workers' registries (prom-client's AggregatorRegistry) instead of showing one worker.
 *
 * A metric is created on first use with the label names of that call; later calls pass the same
 * label names. Gauges that mirror state kept elsewhere (lag, index size) are refreshed by
 * `onCollect` callbacks, which run once before each scrape.
 *
 * @example
 * const metrics = new MetricsRegistry();
 * metrics.inc('sentencify_dead_letters_total', 'Events dead-lettered', { code: 'oversized' });
 * const text = await metrics.render();
 */
type Labels = Record<string, string | number>;

export const DEFAULT_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

const sorted = (l: Labels): Record<string, string> =>
  Object.fromEntries(
    Object.keys(l)
      .sort()
      .map((k) => [k, String(l[k])]),
  );
const key = (l: Labels) => JSON.stringify(sorted(l));

export class MetricsRegistry {
  readonly register: Registry;
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();
  /** A synchronous mirror of counter and gauge values, for `value()` (tests and reports). */
  private readonly mirror = new Map<string, Map<string, number>>();
  private readonly collectors: (() => void | Promise<void>)[] = [];
  private collecting: Promise<void> | null = null;

  constructor(register: Registry = new Registry()) {
    this.register = register;
  }

  private remember(name: string, labels: Labels, f: (v: number) => number): void {
    let m = this.mirror.get(name);
    if (!m) {
      m = new Map();
      this.mirror.set(name, m);
    }
    const k = key(labels);
    m.set(k, f(m.get(k) ?? 0));
  }

  /** Runs the collectors once per scrape, however many gauges ask. */
  private collectAll(): Promise<void> {
    if (!this.collecting) {
      this.collecting = (async () => {
        for (const c of this.collectors) await c();
      })().finally(() => {
        this.collecting = null;
      });
    }
    return this.collecting;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames: Object.keys(labels).sort(), registers: [this.register] });
      this.counters.set(name, c);
    }
    c.inc(sorted(labels), by);
    this.remember(name, labels, (v) => v + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    let g = this.gauges.get(name);
    if (!g) {
      const self = this;
      g = new Gauge({
        name,
        help,
        labelNames: Object.keys(labels).sort(),
        registers: [this.register],
        // Each scrape (also a worker's answer to the cluster primary) refreshes mirrored state.
        async collect() {
          await self.collectAll();
        },
      });
      this.gauges.set(name, g);
    }
    g.set(sorted(labels), value);
    this.remember(name, labels, () => value);
  }

  observe(
    name: string,
    help: string,
    value: number,
    labels: Labels = {},
    buckets = DEFAULT_BUCKETS_MS,
  ): void {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({
        name,
        help,
        labelNames: Object.keys(labels).sort(),
        buckets: [...buckets],
        registers: [this.register],
      });
      this.histograms.set(name, h);
    }
    h.observe(sorted(labels), value);
  }

  /** Refreshes gauges read from elsewhere (index size, lag, …) before each scrape; returns the remover. */
  onCollect(f: () => void | Promise<void>): () => void {
    this.collectors.push(f);
    return () => {
      const i = this.collectors.indexOf(f);
      if (i >= 0) this.collectors.splice(i, 1);
    };
  }

  /** Current value of a counter or gauge. */
  value(name: string, labels: Labels = {}): number {
    return this.mirror.get(name)?.get(key(labels)) ?? 0;
  }

  get contentType(): string {
    return this.register.contentType;
  }

  /** The Prometheus text exposition of this registry. */
  async render(): Promise<string> {
    await this.collectAll();
    return this.register.metrics();
  }
}

/** Prometheus text of every worker's registry, summed (for API_WORKERS > 1; call in the primary). */
export function createClusterAggregator(): { render(): Promise<string>; contentType: string } {
  const agg = new AggregatorRegistry();
  return { render: () => agg.clusterMetrics(), contentType: agg.contentType };
}

/** In a cluster worker: answer the primary's aggregation requests with this registry. */
export function serveToClusterPrimary(metrics: MetricsRegistry): void {
  AggregatorRegistry.setRegistries([metrics.register]);
}
