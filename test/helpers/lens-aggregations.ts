import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Kibana saved objects of kibana/sentencify-dashboard.ndjson read as data, and each Lens panel
 * turned into the Elasticsearch aggregation Kibana would send for it, so the tests can check the
 * fields against the template and run every panel on a real node.
 */

export const NDJSON_PATH = join(import.meta.dirname, '../../kibana/sentencify-dashboard.ndjson');

export interface SavedObject {
  readonly type: string;
  readonly id: string;
  readonly attributes: Record<string, unknown>;
  readonly references: readonly { type: string; id: string; name: string }[];
}

export interface LensColumn {
  readonly operationType: string;
  readonly sourceField?: string;
  readonly isBucketed: boolean;
  readonly label: string;
  readonly params?: Record<string, unknown>;
  readonly filter?: { query: string; language: string };
  readonly references?: readonly string[];
}

export interface LensPanel {
  readonly panelIndex: string;
  readonly title: string;
  readonly visualizationType: string;
  readonly references: readonly { type: string; id: string; name: string }[];
  readonly layers: Record<string, { columns: Record<string, LensColumn>; columnOrder: string[] }>;
  readonly visualization: unknown;
}

export function readSavedObjects(path = NDJSON_PATH): SavedObject[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SavedObject);
}

export function lensPanels(dashboard: SavedObject): LensPanel[] {
  const panels = JSON.parse(String(dashboard.attributes.panelsJSON)) as {
    panelIndex: string;
    type: string;
    embeddableConfig: { attributes: Record<string, unknown> };
  }[];
  return panels.map((p) => {
    const a = p.embeddableConfig.attributes as {
      title: string;
      visualizationType: string;
      references: LensPanel['references'];
      state: { visualization: unknown; datasourceStates: { formBased: { layers: LensPanel['layers'] } } };
    };
    return {
      panelIndex: p.panelIndex,
      title: a.title,
      visualizationType: a.visualizationType,
      references: a.references,
      layers: a.state.datasourceStates.formBased.layers,
      visualization: a.state.visualization,
    };
  });
}

/** The KQL the panels use: `field:value` terms joined by `and` (nothing fancier is needed). */
export function kqlFields(kql: string): string[] {
  return [...kql.matchAll(/([A-Za-z_][\w.]*)\s*:/g)].map((m) => m[1]!);
}

export function kqlToQuery(kql: string): Record<string, unknown> {
  const parts = kql.split(/\s+and\s+/i).map((p) => {
    const m = /^\s*([\w.]+)\s*:\s*"?([^"]*)"?\s*$/.exec(p);
    if (!m) throw new Error(`KQL beyond this helper: ${kql}`);
    const v = m[2] === 'true' ? true : m[2] === 'false' ? false : m[2];
    return { term: { [m[1]!]: v } };
  });
  return parts.length === 1 ? parts[0]! : { bool: { filter: parts } };
}

/** Every field a panel reads: column source fields and the fields of its KQL filters. */
export function panelFields(p: LensPanel): string[] {
  const out = new Set<string>();
  for (const l of Object.values(p.layers)) {
    for (const c of Object.values(l.columns)) {
      if (c.sourceField && c.sourceField !== '___records___') out.add(c.sourceField);
      if (c.filter) for (const f of kqlFields(c.filter.query)) out.add(f);
      const filters = (c.params?.filters ?? []) as { input: { query: string } }[];
      for (const f of filters) for (const k of kqlFields(f.input.query)) out.add(k);
    }
  }
  return [...out];
}

type Agg = Record<string, unknown>;

/**
 * A Lens layer as the ES aggregation Kibana's esaggs sends: buckets nested in column order, metrics
 * at the leaves (a filtered metric under a `filter` aggregation), math and formula columns left to
 * `evaluateRows`. `auto` date intervals become one day here (Kibana picks one by the time range).
 */
export function layerAggregation(layer: LensPanel['layers'][string]): Agg {
  const cols = layer.columnOrder.map((id) => [id, layer.columns[id]!] as const);
  const buckets = cols.filter(([, c]) => c.isBucketed);
  const metrics: Agg = {};
  for (const [id, c] of cols) {
    if (c.isBucketed || c.operationType === 'math' || c.operationType === 'formula') continue;
    let m: Agg | null;
    switch (c.operationType) {
      case 'count':
        m = null;
        break;
      case 'sum':
        m = { sum: { field: c.sourceField } };
        break;
      case 'average':
        m = { avg: { field: c.sourceField } };
        break;
      case 'percentile':
        m = { percentiles: { field: c.sourceField, percents: [c.params!.percentile] } };
        break;
      case 'unique_count':
        m = { cardinality: { field: c.sourceField } };
        break;
      default:
        throw new Error(`operation ${c.operationType} has no aggregation in this helper`);
    }
    if (c.filter) metrics[id] = { filter: kqlToQuery(c.filter.query), ...(m ? { aggs: { v: m } } : {}) };
    else if (m) metrics[id] = m;
  }
  let aggs: Agg = metrics;
  for (const [id, c] of [...buckets].reverse()) {
    let b: Agg;
    if (c.operationType === 'terms') {
      b = { terms: { field: c.sourceField, size: Math.max(Number(c.params?.size ?? 3), 100) } };
    } else if (c.operationType === 'date_histogram') {
      const iv = String(c.params?.interval ?? 'auto');
      b = { date_histogram: { field: c.sourceField, calendar_interval: iv === 'auto' ? 'day' : iv } };
    } else if (c.operationType === 'filters') {
      const fs = c.params!.filters as { label: string; input: { query: string } }[];
      b = { filters: { filters: Object.fromEntries(fs.map((f) => [f.label, kqlToQuery(f.input.query)])) } };
    } else throw new Error(`bucket ${c.operationType} has no aggregation in this helper`);
    aggs = { [id]: { ...b, ...(Object.keys(aggs).length > 0 ? { aggs } : {}) } };
  }
  return aggs;
}

/** A response flattened into rows: bucket keys by column id, metric values by column id (formulas evaluated). */
export function evaluateRows(
  layer: LensPanel['layers'][string],
  aggregations: Record<string, unknown>,
): Record<string, string | number | null>[] {
  const cols = layer.columnOrder.map((id) => [id, layer.columns[id]!] as const);
  const buckets = cols.filter(([, c]) => c.isBucketed);
  const rows: Record<string, string | number | null>[] = [];
  const leaf = (node: Record<string, unknown>, keys: Record<string, string | number | null>) => {
    const row: Record<string, string | number | null> = { ...keys };
    for (const [id, c] of cols) {
      if (c.isBucketed || c.operationType === 'math' || c.operationType === 'formula') continue;
      const n = (c.filter ? node[id] : node) as Record<string, unknown>;
      const v = c.filter ? ((n.v as Record<string, unknown>) ?? n) : (node[id] as Record<string, unknown>);
      if (c.operationType === 'count') row[id] = Number(n.doc_count);
      else if (c.operationType === 'percentile') {
        const vals = (v.values ?? {}) as Record<string, number | null>;
        row[id] = Object.values(vals)[0] ?? null;
      } else row[id] = (v.value as number | null) ?? null;
    }
    for (const [id, c] of cols) {
      if (c.operationType !== 'math') continue;
      const ast = c.params!.tinymathAst as { name: string; args: string[] };
      const [x, y] = ast.args.map((a) => row[a] as number | null);
      row[id] = ast.name === 'divide' && x != null && y ? x / y : null;
    }
    for (const [id, c] of cols) if (c.operationType === 'formula') row[id] = row[c.references![0]!] ?? null;
    rows.push(row);
  };
  const walk = (
    node: Record<string, unknown>,
    depth: number,
    keys: Record<string, string | number | null>,
  ) => {
    if (depth === buckets.length) return leaf(node, keys);
    const [id] = buckets[depth]!;
    const agg = node[id] as { buckets: unknown };
    const list = Array.isArray(agg.buckets)
      ? (agg.buckets as Record<string, unknown>[]).map((b) => [String(b.key_as_string ?? b.key), b] as const)
      : Object.entries(agg.buckets as Record<string, Record<string, unknown>>);
    for (const [key, b] of list) if (Number(b.doc_count) > 0) walk(b, depth + 1, { ...keys, [id]: key });
  };
  walk(aggregations, 0, {});
  return rows;
}
