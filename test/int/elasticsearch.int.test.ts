import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOfflineParaphraser } from '../../api/paraphrase/offline-paraphraser.ts';
import type { Paraphraser } from '../../api/paraphrase/paraphraser.ts';
import { createEmbeddedWheel } from '../../app/embedded-wheel.ts';
import { DEFAULT_TOPICS, optionKey, type TrainingExample } from '../../schemas/index.ts';
import { evaluate } from '../../simulator/evaluate.ts';
import { loadPersonas } from '../../simulator/personas/schema.ts';
import { loadContextPool } from '../../simulator/pools/contexts.ts';
import { inProcessClient, wheelPacer } from '../../simulator/run-evaluation.ts';
import { simulate } from '../../simulator/simulate.ts';
import { decodeExample } from '../../streams/codec/session-codec.ts';
import type { LogRecord } from '../../streams/log/event-log.ts';
import { goldenDocument } from '../../streams/sinks/golden-document.ts';
import { createGoldenSink } from '../../streams/sinks/golden-sink.ts';
import { createEsClient, createEsGoldenStore } from '../../streams/stores/es-golden-store.ts';
import { mappedFields } from '../../streams/stores/golden-store.ts';
import { goldenContract, sampleWrite } from '../helpers/golden-contract.ts';
import {
  evaluateRows,
  type LensPanel,
  layerAggregation,
  lensPanels,
  panelFields,
  readSavedObjects,
} from '../helpers/lens-aggregations.ts';
import { storeUrl } from './stores.ts';

const url = storeUrl(inject('services'), 'ES_URL');
const testPrefix = () => `sentencify-golden-it-${randomUUID().slice(0, 8)}-`;

describe.skipIf(!url)('Elasticsearch golden indices', () => {
  goldenContract('Elasticsearch', async () =>
    createEsGoldenStore(createEsClient({ node: url! }), { prefix: testPrefix(), closeClient: true }),
  );

  it('a flood-stage disk block (429 per item) makes the write a retriable SinkError; once lifted, the same write lands', async () => {
    const client = createEsClient({ node: url! });
    const store = createEsGoldenStore(client, {
      prefix: testPrefix(),
      itemRetryBaseMs: 20,
      closeClient: true,
    });
    try {
      await store.ensureTemplate();
      const first = sampleWrite('blocked-0');
      await store.write([first]);
      const index = `${store.prefix}${first.day}`;
      // what Elasticsearch puts on an index when a disk passes the flood-stage watermark
      await client.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': true } });
      const batch = [sampleWrite('blocked-1'), sampleWrite('blocked-2')];
      await expect(store.write(batch)).rejects.toMatchObject({
        name: 'SinkError',
        code: 'es_pushback',
        retriable: true,
      });
      await client.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': null } });
      expect(await store.write(batch)).toEqual({ written: 2, stale: 0, rejected: [] });
    } finally {
      await store.drop();
      await store.close();
    }
  });

  describe('the dashboards on a simulated run', () => {
    const client = createEsClient({ node: url ?? 'http://127.0.0.1:1' });
    const store = createEsGoldenStore(client, { prefix: testPrefix(), closeClient: true });
    const pattern = `${store.prefix}*`;
    const panels = lensPanels(readSavedObjects().find((o) => o.type === 'dashboard')!);
    let latest: TrainingExample[] = [];
    let h: LogRecord[] = [];
    let evaluation: ReturnType<typeof evaluate>;
    const sink = createGoldenSink({ store, topic: DEFAULT_TOPICS.trainingExamples });

    beforeAll(async () => {
      // Two variants: half the users get a second (offline) model, so acceptance by variant has two series.
      const off = createOfflineParaphraser();
      const b: Paraphraser = {
        provider: off.provider,
        model: 'offline-paraphraser-b',
        paraphrase: async (i) => ({ ...(await off.paraphrase(i)), model: 'offline-paraphraser-b' }),
      };
      let n = 0;
      const wheel = await createEmbeddedWheel({
        seed: 7,
        clusters: 4,
        paraphraserB: b,
        newId: () => `es-${++n}`,
      });
      const records = await simulate(
        { personas: loadPersonas(), contexts: loadContextPool(), sessions: 400, seed: 7, usersPerPersona: 2 },
        inProcessClient(wheel),
        wheelPacer(wheel),
      );
      evaluation = evaluate(records);
      h = wheel.log.read(DEFAULT_TOPICS.trainingExamples);
      const bySession = new Map<string, TrainingExample>();
      for (const r of h) {
        const x = decodeExample(r);
        if ('code' in x) throw new Error(`undecodable H in the simulated run: ${x.reason}`);
        const prev = bySession.get(x.recommend_session_id);
        if (!prev || prev.revision < x.revision) bySession.set(x.recommend_session_id, x);
      }
      latest = [...bySession.values()];
      for (let i = 0; i < h.length; i += 500) {
        const res = await sink.apply(h.slice(i, i + 500));
        expect(res!.rejected).toEqual([]);
      }
      await store.refresh();
    });

    afterAll(async () => {
      await store.drop();
      await store.close();
    });

    it('holds one document per session at its latest revision; a replay of all of H changes nothing', async () => {
      expect(latest.length).toBe(400);
      expect(await store.count()).toBe(latest.length);
      const replay = await sink.apply(h);
      expect(replay!.counts).toMatchObject({ written: 0, stale: h.length, rejected: 0 });
      await store.refresh();
      expect(await store.count()).toBe(latest.length);
      const res = await client.search<{ revision: number; recommend_session_id: string }>({
        index: pattern,
        size: 1000,
        _source: ['revision', 'recommend_session_id'],
      });
      const want = new Map(latest.map((x) => [x.recommend_session_id, x.revision]));
      for (const hit of res.hits.hits)
        expect(hit._source!.revision).toBe(want.get(hit._source!.recommend_session_id));
    });

    it('field_caps: every field the panels read exists in the indices, typed as the template says, and is aggregatable', async () => {
      const fields = [...new Set(panels.flatMap(panelFields))];
      const caps = await client.fieldCaps({ index: pattern, fields });
      const mapped = mappedFields();
      for (const f of fields) {
        const c = caps.fields[f];
        expect(c, `${f} missing on the node`).toBeDefined();
        const types = Object.keys(c!);
        expect(types).toEqual([mapped.get(f)]);
        expect(c![types[0]!]!.aggregatable, `${f} aggregatable`).toBe(true);
      }
    });

    /** Runs a panel's aggregation on the node and returns its rows. */
    async function rows(id: string) {
      const p = panels.find((x) => x.panelIndex === id) as LensPanel;
      const layer = Object.values(p.layers)[0]!;
      const res = await client.search({ index: pattern, size: 0, aggs: layerAggregation(layer) as never });
      const cols = layer.columnOrder.map((c) => [c, layer.columns[c]!] as const);
      const named = (r: Record<string, string | number | null>) =>
        Object.fromEntries(
          cols.map(([cid, c]) => [c.sourceField && c.isBucketed ? c.sourceField : cid, r[cid]]),
        );
      return evaluateRows(layer, res.aggregations as Record<string, unknown>).map(named);
    }

    const accepted = (x: TrainingExample) => x.outcome === 'accepted' || x.outcome === 'edited';
    const variantOf = (x: TrainingExample) =>
      x.recommended?.variant ?? x.paraphrases[x.paraphrases.length - 1]?.variant ?? '';
    const rate = (xs: TrainingExample[]) => xs.filter(accepted).length / xs.length;
    const group = <K extends string>(xs: TrainingExample[], key: (x: TrainingExample) => K) => {
      const m = new Map<K, TrainingExample[]>();
      for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
      return m;
    };

    it('acceptance rate over time by variant: the node agrees with H and with the evaluation', async () => {
      const got = await rows('sentencify-acceptance-by-variant');
      const want = group(latest, (x) => `${x.ts.slice(0, 10)}|${variantOf(x)}`);
      expect(got).toHaveLength(want.size);
      for (const r of got) {
        const xs = want.get(`${String(r.ts).slice(0, 10)}|${r.variant}`)!;
        expect(r.acceptance).toBeCloseTo(rate(xs), 10);
      }
      expect(new Set(got.map((r) => r.variant))).toEqual(new Set(['A', 'B']));
      // overall, the same acceptance the evaluation computed from what the bots did
      const all = await client.search({
        index: pattern,
        size: 0,
        aggs: { a: { avg: { field: 'acceptance' } } },
      });
      const overall = (all.aggregations as { a: { value: number } }).a.value;
      expect(Math.round(overall * 10_000) / 10_000).toBe(evaluation.acceptance_rate);
    });

    it('option mix: sessions per chosen option and outcome', async () => {
      const got = await rows('sentencify-option-mix');
      const want = group(
        latest.filter((x) => x.chosen_option),
        (x) => `${optionKey(x.chosen_option!)}|${x.outcome}`,
      );
      expect(got).toHaveLength(want.size);
      for (const r of got)
        expect(r[Object.keys(r).at(-1)!]).toBe(
          want.get(`${String(r.option)}|${String(r.outcome)}` as never)!.length,
        );
    });

    it('consistency flags: sessions per reason and level', async () => {
      const got = await rows('sentencify-consistency');
      const want = new Map<string, number>();
      for (const x of latest) {
        for (const reason of new Set(x.consistency_reasons)) {
          const k = `${reason}|${x.consistency}`;
          want.set(k, (want.get(k) ?? 0) + 1);
        }
      }
      expect(want.size).toBeGreaterThan(0);
      expect(got).toHaveLength(want.size);
      for (const r of got) {
        expect(r[Object.keys(r).at(-1)!]).toBe(want.get(`${r.consistency_reasons}|${r.consistency}`));
      }
    });

    it('funnel drop-off: sessions that reached A, B, C and acceptance', async () => {
      const got = await rows('sentencify-funnel');
      const count = (f: (x: TrainingExample) => boolean) => latest.filter(f).length;
      const byLabel = Object.fromEntries(got.map((r) => [Object.values(r)[0], Object.values(r)[1]]));
      expect(byLabel).toEqual({
        'A recommended': count((x) => x.funnel.includes('A')),
        'B paraphrased': count((x) => x.funnel.includes('B')),
        'C selected': count((x) => x.funnel.includes('C')),
        accepted: count(accepted),
      });
      expect(byLabel['C selected']).toBeLessThan(byLabel['B paraphrased']!);
      expect(byLabel.accepted).toBeLessThan(byLabel['C selected']!);
    });

    it('tokens and cost per accepted suggestion, by model', async () => {
      const got = await rows('sentencify-tokens-cost');
      const models = group(
        latest.filter((x) => x.paraphrases.length > 0),
        (x) => x.paraphrases[x.paraphrases.length - 1]!.model,
      );
      expect(new Set(got.map((r) => r.model))).toEqual(new Set(models.keys()));
      for (const r of got) {
        const xs = models.get(String(r.model))!;
        expect(r['accepted-count']).toBe(xs.filter(accepted).length);
        // H carries each paraphrase's LLM usage (B's llm block): the panel sums what the documents say.
        const docs = xs.map((x) => goldenDocument(x));
        const tokens = docs.reduce((n, d) => n + (d.total_tokens ?? 0), 0);
        expect(tokens).toBeGreaterThan(0);
        expect(r.tokens).toBe(tokens);
        const cost = docs.reduce((n, d) => n + (d.cost_usd ?? 0), 0);
        expect(Number(r.cost)).toBeCloseTo(cost, 6);
        const latencies = docs.flatMap((d) => (d.llm_latency_ms === null ? [] : [d.llm_latency_ms]));
        expect(latencies.length).toBeGreaterThan(0);
        expect(Number(r['latency-p95'])).toBeGreaterThanOrEqual(Math.min(...latencies));
        expect(Number(r['latency-p95'])).toBeLessThanOrEqual(Math.max(...latencies));
      }
    });

    it('cold start vs warm: acceptance by profile state and variant', async () => {
      const got = await rows('sentencify-cold-start');
      const withA = latest.filter((x) => x.recommended);
      const cold = (x: TrainingExample) =>
        x.recommended!.profile_version === null || x.recommended!.profile_version === 0;
      const want = group(withA, (x) => `${cold(x)}|${variantOf(x)}`);
      expect(got).toHaveLength(want.size);
      for (const r of got)
        expect(r['cold-acceptance']).toBeCloseTo(
          rate(want.get(`${String(r.cold_start)}|${String(r.variant)}` as never)!),
          10,
        );
      expect(new Set(got.map((r) => r.cold_start))).toEqual(new Set(['true', 'false']));
    });
  });
});
