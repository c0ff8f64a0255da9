/**
 * The second step of building kibana/sentencify-dashboard.ndjson (`npm run kibana:build`): it
 * writes the shared KPIs into the saved objects from analytics/kpi-definitions.ts — the module the
 * dashboard's KPI fold uses too — so Kibana and `/dashboard` define acceptance, the funnel stages
 * and cost per accepted suggestion the same way:
 * - the funnel panel's filters are FUNNEL_STAGES (label and KQL of each stage, in order);
 * - every "Acceptance rate" column averages ACCEPTANCE.field, every accepted count filters on
 *   ACCEPTANCE.acceptedKql;
 * - the tokens/cost table's ratio columns are the Lens formulas TOKENS_PER_ACCEPTED.formula and
 *   COST_PER_ACCEPTED.formula (with the sub-columns Lens persists for a formula);
 * - the dashboard's description states the definitions and the default price.
 * The first step, kibana/build-dashboard.py, compiles the YAML's layout (kb-dashboard-cli) and adds
 * the data view. This step is idempotent and keeps the file's formatting (Python's json.dumps),
 * so test/unit/kibana/kpi-definitions.unit.test.ts can check that the committed file is its output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACCEPTANCE,
  COST_PER_ACCEPTED,
  describePrice,
  FUNNEL_STAGES,
  TOKENS_PER_ACCEPTED,
} from '../analytics/kpi-definitions.ts';

export const NDJSON = join(dirname(fileURLToPath(import.meta.url)), 'sentencify-dashboard.ndjson');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** Python's json.dumps: ", " and ": " separators, optionally sorted keys and ASCII-only strings. */
export function pyDumps(v: Json, o: { sortKeys?: boolean; ascii?: boolean } = {}): string {
  const str = (s: string) => {
    const j = JSON.stringify(s);
    return o.ascii
      ? j.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      : j;
  };
  const walk = (x: Json): string => {
    if (x === null || typeof x === 'boolean' || typeof x === 'number') return JSON.stringify(x);
    if (typeof x === 'string') return str(x);
    if (Array.isArray(x)) return `[${x.map(walk).join(', ')}]`;
    const keys = Object.keys(x);
    if (o.sortKeys) keys.sort();
    return `{${keys.map((k) => `${str(k)}: ${walk(x[k]!)}`).join(', ')}}`;
  };
  return walk(v);
}

/** A Lens formula `sum(field) / count(kql=accepted)` with the sub-columns Lens persists. */
function formulaColumns(cid: string, label: string, field: string, text: string): Obj {
  const part = `Part of ${label}`;
  const [x0, x1, x2] = [`${cid}X0`, `${cid}X1`, `${cid}X2`];
  const base = { dataType: 'number', isBucketed: false, scale: 'ratio', customLabel: true };
  return {
    [x0]: { ...base, label: part, operationType: 'sum', sourceField: field, params: { emptyAsNull: false } },
    [x1]: {
      ...base,
      label: part,
      operationType: 'count',
      sourceField: '___records___',
      filter: { query: ACCEPTANCE.acceptedKql, language: 'kuery' },
      params: { emptyAsNull: false },
    },
    [x2]: {
      ...base,
      label: part,
      operationType: 'math',
      params: {
        tinymathAst: {
          type: 'function',
          name: 'divide',
          args: [x0, x1],
          location: { min: 0, max: text.length },
          text,
        },
      },
      references: [x0, x1],
    },
    [cid]: {
      ...base,
      label,
      operationType: 'formula',
      params: { formula: text, isFormulaBroken: false },
      references: [x2],
    },
  };
}

const RATIOS = [
  { id: 'tokens-per-accepted', def: TOKENS_PER_ACCEPTED, field: TOKENS_PER_ACCEPTED.tokensField },
  { id: 'cost-per-accepted', def: COST_PER_ACCEPTED, field: COST_PER_ACCEPTED.costField },
] as const;

export const DESCRIPTION_PREFIX =
  'The data wheel from the golden indices sentencify-golden-*: one document per recommend session at its latest revision.';

/** Writes the shared definitions into one Lens layer's columns (in place). */
function applyToLayer(layer: Obj, visualization: Obj): void {
  const columns = layer.columns as Obj;
  const order = layer.columnOrder as string[];
  for (const c of Object.values(columns) as Obj[]) {
    if (c.operationType === 'average' && c.label === ACCEPTANCE.label) c.sourceField = ACCEPTANCE.field;
    if (c.operationType === 'count' && c.label === 'Accepted')
      c.filter = { query: ACCEPTANCE.acceptedKql, language: 'kuery' };
    if (c.operationType === 'filters') {
      (c.params as Obj).filters = FUNNEL_STAGES.map((s) => ({
        label: s.label,
        input: { query: s.kql, language: 'kuery' },
      }));
    }
  }
  if (!('accepted-count' in columns)) return;
  // The tokens/cost table: its ratio columns are the shared formulas.
  for (const r of RATIOS) {
    const added = formulaColumns(r.id, r.def.label, r.field, r.def.formula);
    Object.assign(columns, added);
    for (const k of Object.keys(added)) if (!order.includes(k)) order.push(k);
    const vis = visualization.columns as Obj[];
    if (!vis.some((v) => v.columnId === r.id))
      vis.push({ columnId: r.id, isTransposed: false, isMetric: true });
  }
}

/** The saved objects with the shared KPI definitions written in. Pure; idempotent. */
export function applyKpiDefinitions(objects: readonly Obj[]): Obj[] {
  return objects.map((o0) => {
    const o = structuredClone(o0);
    if (o.type !== 'dashboard') return o;
    const attrs = o.attributes as Obj;
    const panels = JSON.parse(attrs.panelsJSON as string) as Obj[];
    for (const p of panels) {
      const a = (p.embeddableConfig as Obj).attributes as Obj;
      const state = a.state as Obj;
      const layers = ((state.datasourceStates as Obj).formBased as Obj).layers as Obj;
      for (const l of Object.values(layers)) applyToLayer(l as Obj, state.visualization as Obj);
    }
    attrs.panelsJSON = pyDumps(panels as Json, { ascii: true });
    attrs.description = `${DESCRIPTION_PREFIX} Acceptance = ${ACCEPTANCE.definition}; cost per accepted suggestion = ${COST_PER_ACCEPTED.definition} (cost_usd is priced by the golden sink's price table; the /dashboard default is ${describePrice()}).`;
    return o;
  });
}

export function parseNdjson(text: string): Obj[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Obj);
}

export function renderNdjson(objects: readonly Obj[]): string {
  return `${objects.map((o) => pyDumps(o, { sortKeys: true })).join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = renderNdjson(applyKpiDefinitions(parseNdjson(readFileSync(NDJSON, 'utf8'))));
  writeFileSync(NDJSON, out);
  console.log(`wrote ${NDJSON} with the KPI definitions of analytics/kpi-definitions.ts`);
}
