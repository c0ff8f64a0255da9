import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACCEPTANCE,
  COST_PER_ACCEPTED,
  describePrice,
  FUNNEL_STAGES,
  TOKENS_PER_ACCEPTED,
} from '../../../analytics/kpi-definitions.ts';
import { applyKpiDefinitions, NDJSON, parseNdjson, renderNdjson } from '../../../kibana/build-dashboard.ts';

type Column = {
  operationType: string;
  label: string;
  sourceField?: string;
  filter?: { query: string; language: string };
  params?: { formula?: string; filters?: { label: string; input: { query: string } }[] };
};

type Layer = { columns: Record<string, Column>; columnOrder: string[] };
type Panel = {
  embeddableConfig: {
    attributes: {
      state: {
        datasourceStates: { formBased: { layers: Record<string, Layer> } };
        visualization: { columns?: { columnId: string }[] };
      };
    };
  };
};
const layersOf = (p: Panel) =>
  Object.values(p.embeddableConfig.attributes.state.datasourceStates.formBased.layers);

const text = readFileSync(NDJSON, 'utf8');
const objects = parseNdjson(text);
const dashboard = objects.find((o) => o.type === 'dashboard')! as { attributes: Record<string, string> };
const columns: Column[] = (JSON.parse(dashboard.attributes.panelsJSON!) as Panel[]).flatMap((p) =>
  layersOf(p).flatMap((l) => Object.values(l.columns)),
);

describe('the Kibana dashboard uses the shared KPI definitions (analytics/kpi-definitions.ts)', () => {
  it('is the output of npm run kibana:build: rebuilding the committed file changes nothing', () => {
    expect(renderNdjson(applyKpiDefinitions(objects))).toBe(text);
  });

  it('filters the funnel by FUNNEL_STAGES, in order', () => {
    const funnel = columns.find((c) => c.operationType === 'filters')!;
    expect(funnel.params!.filters!.map((f) => [f.label, f.input.query])).toEqual(
      FUNNEL_STAGES.map((s) => [s.label, s.kql]),
    );
  });

  it('averages the acceptance field, counts accepted with the accepted KQL, and divides by the shared formulas', () => {
    const rates = columns.filter((c) => c.label === ACCEPTANCE.label);
    expect(rates.length).toBeGreaterThanOrEqual(2);
    for (const c of rates)
      expect(c).toMatchObject({ operationType: 'average', sourceField: ACCEPTANCE.field });
    const accepted = columns.filter((c) => c.operationType === 'count' && c.filter);
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    for (const c of accepted) expect(c.filter!.query).toBe(ACCEPTANCE.acceptedKql);
    const formulas = columns.filter((c) => c.operationType === 'formula');
    expect(formulas.map((c) => [c.label, c.params!.formula])).toEqual([
      [TOKENS_PER_ACCEPTED.label, TOKENS_PER_ACCEPTED.formula],
      [COST_PER_ACCEPTED.label, COST_PER_ACCEPTED.formula],
    ]);
  });

  it('says in its description what acceptance and cost per accepted mean, and the default price', () => {
    const d = dashboard.attributes.description!;
    expect(d).toContain(ACCEPTANCE.definition);
    expect(d).toContain(COST_PER_ACCEPTED.definition);
    expect(d).toContain(describePrice());
  });

  it('a changed definition reaches the saved objects', () => {
    const stripped = objects.map((o) => structuredClone(o));
    const dash = stripped.find((o) => o.type === 'dashboard')! as { attributes: Record<string, string> };
    // what kb-dashboard-cli gives: no formula columns, the accepted filter dropped
    const panels = JSON.parse(dash.attributes.panelsJSON!) as Panel[];
    for (const p of panels) {
      for (const l of layersOf(p)) {
        for (const [id, c] of Object.entries(l.columns)) {
          if (id.includes('per-accepted')) delete l.columns[id];
          if (c.label === 'Accepted') delete c.filter;
        }
        l.columnOrder = l.columnOrder.filter((id) => !id.includes('per-accepted'));
      }
      const vis = p.embeddableConfig.attributes.state.visualization;
      if (vis.columns) vis.columns = vis.columns.filter((v) => !v.columnId.includes('per-accepted'));
    }
    dash.attributes.panelsJSON = JSON.stringify(panels);
    expect(renderNdjson(applyKpiDefinitions(stripped))).toBe(text);
  });
});
