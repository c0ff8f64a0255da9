/** A tiny Prometheus text-format registry: counters, gauges and histograms with labels. */
type Labels = Record<string, string | number>;

const key = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}="${String(l[k]).replace(/["\\\n]/g, '_')}"`)
    .join(',');

export const DEFAULT_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

interface Family {
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly values: Map<string, number>;
  readonly hist?: Map<string, { buckets: number[]; sum: number; count: number }>;
  readonly bounds?: readonly number[];
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => void | Promise<void>)[] = [];

  private family(name: string, type: Family['type'], help: string, bounds?: readonly number[]): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { type, help, values: new Map(), hist: type === 'histogram' ? new Map() : undefined, bounds };
      this.families.set(name, f);
    }
    return f;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name, 'counter', help);
    const k = key(labels);
    f.values.set(k, (f.values.get(k) ?? 0) + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.family(name, 'gauge', help).values.set(key(labels), value);
  }

  observe(name: string, help: string, value: number, labels: Labels = {}, bounds = DEFAULT_BUCKETS_MS): void {
    const f = this.family(name, 'histogram', help, bounds);
    const k = key(labels);
    let h = f.hist!.get(k);
    if (!h) {
      h = { buckets: new Array(f.bounds!.length).fill(0), sum: 0, count: 0 };
      f.hist!.set(k, h);
    }
    for (let i = 0; i < f.bounds!.length; i++) if (value <= f.bounds![i]!) h.buckets[i]! += 1;
    h.sum += value;
    h.count += 1;
  }

  /** Runs before each render, to refresh gauges read from elsewhere (index size, …). */
  onCollect(f: () => void | Promise<void>): void {
    this.collectors.push(f);
  }

  /** Current value of a counter or gauge (tests and reports). */
  value(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(key(labels)) ?? 0;
  }

  async render(): Promise<string> {
    for (const c of this.collectors) await c();
    const out: string[] = [];
    for (const [name, f] of [...this.families].sort((a, b) => a[0].localeCompare(b[0]))) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.type !== 'histogram') {
        for (const [k, v] of f.values) out.push(`${name}${k ? `{${k}}` : ''} ${v}`);
        continue;
      }
      for (const [k, h] of f.hist!) {
        const sep = k ? `${k},` : '';
        for (const [i, b] of f.bounds!.entries()) out.push(`${name}_bucket{${sep}le="${b}"} ${h.buckets[i]}`);
        out.push(`${name}_bucket{${sep}le="+Inf"} ${h.count}`);
        out.push(`${name}_sum${k ? `{${k}}` : ''} ${h.sum}`, `${name}_count${k ? `{${k}}` : ''} ${h.count}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
