import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mappedFields } from '../../../streams/stores/golden-store.ts';
import {
  layerAggregation,
  lensPanels,
  NDJSON_PATH,
  panelFields,
  readSavedObjects,
} from '../../helpers/lens-aggregations.ts';

const objects = readSavedObjects();
const dashboard = objects.find((o) => o.type === 'dashboard')!;
const dataView = objects.find((o) => o.type === 'index-pattern')!;
const fields = mappedFields();
const AGGREGATABLE = new Set(['keyword', 'integer', 'long', 'double', 'boolean', 'date']);

describe('Kibana saved objects (kibana/sentencify-dashboard.ndjson)', () => {
  it('parses line by line into saved objects with a type, an id and attributes', () => {
    const lines = readFileSync(NDJSON_PATH, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const o = JSON.parse(l);
      expect(typeof o.type).toBe('string');
      expect(typeof o.id).toBe('string');
      expect(typeof o.attributes).toBe('object');
      expect(Array.isArray(o.references)).toBe(true);
    }
    expect(new Set(objects.map((o) => `${o.type}:${o.id}`)).size).toBe(objects.length);
  });

  it('has a data view over sentencify-golden-* with ts, a mapped date, as its time field', () => {
    expect(dataView.attributes).toMatchObject({ title: 'sentencify-golden-*', timeFieldName: 'ts' });
    expect(fields.get(String(dataView.attributes.timeFieldName))).toBe('date');
  });

  it('resolves every reference: dashboard → objects in the file, each panel layer → a dashboard reference', () => {
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    for (const r of dashboard.references) expect(ids.has(`${r.type}:${r.id}`)).toBe(true);
    const names = new Set(dashboard.references.map((r) => r.name));
    for (const p of lensPanels(dashboard)) {
      for (const layerId of Object.keys(p.layers)) {
        const ref = p.references.find((r) => r.name === `indexpattern-datasource-layer-${layerId}`);
        expect(ref, `${p.panelIndex} layer ${layerId}`).toBeDefined();
        expect(ref!.id).toBe(dataView.id);
        expect(names.has(`${p.panelIndex}:${ref!.name}`)).toBe(true);
      }
      // every column a column or the visualisation names exists in its layer
      for (const l of Object.values(p.layers)) {
        for (const c of Object.values(l.columns))
          for (const r of c.references ?? []) expect(l.columns[r]).toBeDefined();
        for (const id of l.columnOrder) expect(l.columns[id]).toBeDefined();
        const accessors =
          JSON.stringify(p.visualization).match(
            /"(?:accessors|columnId|xAccessor|splitAccessor)":(\[[^\]]*\]|"[^"]*")/g,
          ) ?? [];
        for (const a of accessors) {
          for (const id of a.match(/"[^"]*"/g)!.slice(1))
            expect(l.columns[JSON.parse(id)], `${p.panelIndex} ${id}`).toBeDefined();
        }
      }
    }
  });

  it('has the six panels the issue asks for', () => {
    expect(lensPanels(dashboard).map((p) => p.title)).toEqual([
      'Acceptance rate over time by variant',
      'Option mix (chosen option)',
      'Consistency flags',
      'Funnel drop-off',
      'Tokens and cost per accepted suggestion',
      'Cold start vs warm: acceptance',
    ]);
  });

  it('reads only fields the template maps, each of an aggregatable type', () => {
    for (const p of lensPanels(dashboard)) {
      for (const f of panelFields(p)) {
        expect(fields.has(f), `${p.panelIndex}: ${f} is not in the template`).toBe(true);
        expect(AGGREGATABLE.has(fields.get(f)!), `${p.panelIndex}: ${f} is ${fields.get(f)}`).toBe(true);
      }
    }
  });

  it('turns every panel into an Elasticsearch aggregation', () => {
    for (const p of lensPanels(dashboard)) {
      for (const l of Object.values(p.layers)) expect(Object.keys(layerAggregation(l))).toHaveLength(1);
    }
    const funnel = lensPanels(dashboard).find((p) => p.panelIndex === 'sentencify-funnel')!;
    expect(JSON.stringify(layerAggregation(Object.values(funnel.layers)[0]!))).toContain(
      '"reached_paraphrase":true',
    );
  });
});
