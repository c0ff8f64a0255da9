/**
 * Benchmark of the Qdrant path of P_vec (issue 12), against the Qdrant at QDRANT_URL (the local
 * peer from `npm run services:up`, or a server):
 *
 *   npx tsx bench/qdrant.ts [--quick] [--n 20000] [--queries 300] [--sink-n 10000]
 *
 * 1. Recall: n clustered 384-dim unit vectors (test/fixtures/synthetic-vectors.ts, 80 % "ko")
 *    upserted through the adapter, the scheduled optimisation run (HNSW built), then recall@10
 *    of fresh queries against exact search in this process, unfiltered and filtered by language,
 *    and search latency p50/p99 of the adapter one call at a time.
 * 2. Write path: sink-n high-consistency training examples (H) with distinct contexts. Raw: the
 *    points (embeddings of those contexts, UUID v5 ids, the payload) upserted with the bare JS
 *    client, 256 per request, wait=true. Sink: the same examples as H records through the index
 *    sink's `apply` (decode, embed, build points, adapter upsert) in batches of 500, as the sink
 *    runtime would hand them over. `qdrant_sink_ratio` = sink points/s ÷ raw points/s; the
 *    adapter's own upsert of the precomputed points is reported beside it. Each run writes a
 *    fresh collection; raw, sink and adapter alternate (3 rounds) and each side's median counts.
 *
 * Writes bench/results/qdrant.json. The machine is shared: load average is recorded.
 */
import { parseArgs } from 'node:util';
import { QdrantClient } from '@qdrant/js-client-rest';
import { pointIdOf } from '../api/vector/point-id.ts';
import { createQdrantVectorIndex } from '../api/vector/qdrant-vector-index.ts';
import type { VectorPoint } from '../api/vector/vector-index.ts';
import { environment } from '../common/environment.ts';
import exampleH from '../schemas/examples/h-training-example.json' with { type: 'json' };
import type { TrainingExample } from '../schemas/index.ts';
import { loadContextPool } from '../simulator/pools/contexts.ts';
import { encodeExample } from '../streams/codec/session-codec.ts';
import { createHashingEmbedder } from '../streams/embeddings/hashing-embedder.ts';
import { EmbeddedLog } from '../streams/log/embedded-log.ts';
import type { LogRecord } from '../streams/log/event-log.ts';
import { runSink as runSinkRuntime } from '../streams/runtime/sink-runtime.ts';
import { contextPointsFromExamples } from '../streams/sinks/context-points.ts';
import { decodeExamples, embedContexts } from '../streams/sinks/decode-examples.ts';
import { createIndexSink } from '../streams/sinks/index-sink.ts';
import { clusteredUnitVectors } from '../test/fixtures/synthetic-vectors.ts';
import { fmt, latencySummary, machine, median, ROOT, round, writeResult } from './lib/common.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    queries: { type: 'string' },
    'sink-n': { type: 'string' },
  },
});
const quick = args.quick!;
const n = Number(args.n ?? (quick ? 4000 : 20_000));
const nq = Number(args.queries ?? (quick ? 100 : 300));
const sinkN = Number(args['sink-n'] ?? (quick ? 2000 : 10_000));
const dim = 384;
const K = 10;

const env = environment(process.env.SERVICES_ENV_FILE ?? `${ROOT}/.services.env`);
const url = env.QDRANT_URL;
const base = {
  benchmark: 'qdrant',
  workload:
    `recall@10 of the Qdrant adapter after the scheduled optimisation vs exact search on ${n} clustered 384-dim ` +
    `vectors, search p50/p99; ${sinkN} H examples through the index sink's apply vs the bare client's upsert of the same points`,
  reproduce: 'npx tsx bench/qdrant.ts',
  quick,
  params: { n, queries: nq, sink_n: sinkN, dim, k: K, url: url ?? null },
};
const away = !url
  ? 'QDRANT_URL unset and not in .services.env (npm run services:up starts the local peer)'
  : await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
      (r) => (r.ok ? null : `${url} answered ${r.status}`),
      (e: Error) => `${url} unreachable (${e.message})`,
    );
if (!url || away) {
  writeResult({
    ...base,
    figures: { qdrant_recall_at_10: null, qdrant_sink_ratio: null, qdrant_search_p99_ms: null },
    skipped: away ?? 'no QDRANT_URL',
    machine: machine(),
  });
  console.log(`qdrant: skipped, ${away}`);
  process.exit(0);
}

const apiKey = env.QDRANT_API_KEY || undefined;
const client = new QdrantClient({ url, checkCompatibility: false, ...(apiKey ? { apiKey } : {}) });
const prefix = `bench_${process.pid}`;
const created: string[] = [];
const adapter = (collection: string) => {
  created.push(collection);
  return createQdrantVectorIndex({ url, ...(apiKey ? { apiKey } : {}), collection, dim, timeoutMs: 30_000 });
};
const loadBefore = machine().loadavg;
const ms = (t0: number) => performance.now() - t0;

try {
  // ---- 1. recall and search latency ------------------------------------------------------------
  const { data } = clusteredUnitVectors({ n, dim, seed: 7 });
  const queries = clusteredUnitVectors({ n: nq, dim, seed: 7, pointSeed: 8 }).data;
  const lang = (i: number) => (i % 5 === 0 ? 'en' : 'ko');
  const recallIndex = adapter(`${prefix}_recall`);
  await recallIndex.ensure();
  let t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const pts: VectorPoint[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++)
      pts.push({
        id: `rs-${j}`,
        vector: data.subarray(j * dim, (j + 1) * dim),
        payload: {
          option_key: 'email:strong',
          category: 'email',
          intensity: 'strong',
          style_request: null,
          language: lang(j),
          user_id: `u${j % 97}`,
          consistency: 'high',
          example_id: `h:rs-${j}:1`,
          ts: '2026-01-01T00:00:00.000Z',
        },
      });
    await recallIndex.upsert(pts);
  }
  const loadMs = ms(t0);
  t0 = performance.now();
  const opt = await recallIndex.optimizeIndex();
  const optimizeMs = ms(t0);
  const opt2Start = performance.now();
  await recallIndex.optimizeIndex();
  const optimizeAgainMs = ms(opt2Start);

  const exact = (q: Float32Array, language?: string) => {
    const top: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      if (language && lang(i) !== language) continue;
      let d = 0;
      const o = i * dim;
      for (let j = 0; j < dim; j++) d += q[j]! * data[o + j]!;
      if (top.length < K) {
        top.push([d, i]);
        top.sort((a, b) => b[0] - a[0]);
      } else if (d > top[K - 1]![0]) {
        top[K - 1] = [d, i];
        top.sort((a, b) => b[0] - a[0]);
      }
    }
    return new Set(top.map(([, i]) => `rs-${i}`));
  };
  // Searches first, timed back to back; the exact scans (CPU-heavy, in this process) come after,
  // so they do not sit between the timed calls.
  const searchMs: number[] = [];
  const hitsOf: string[][] = [];
  const filteredOf: string[][] = [];
  for (let qi = 0; qi < nq; qi++) {
    const q = queries.subarray(qi * dim, (qi + 1) * dim);
    t0 = performance.now();
    const hits = await recallIndex.search(q, K);
    searchMs.push(ms(t0));
    hitsOf.push(hits.map((h) => h.id));
  }
  for (let qi = 0; qi < nq; qi += 3)
    filteredOf.push(
      (await recallIndex.search(queries.subarray(qi * dim, (qi + 1) * dim), K, { language: 'en' })).map(
        (h) => h.id,
      ),
    );
  let found = 0;
  let foundFiltered = 0;
  for (let qi = 0; qi < nq; qi++) {
    const q = queries.subarray(qi * dim, (qi + 1) * dim);
    const truth = exact(q);
    for (const id of hitsOf[qi]!) if (truth.has(id)) found++;
    if (qi % 3 === 0) {
      const ft = exact(q, 'en');
      for (const id of filteredOf[qi / 3]!) if (ft.has(id)) foundFiltered++;
    }
  }
  const filteredTotal = filteredOf.length * K;
  const recall = found / (nq * K);
  const recallFiltered = foundFiltered / filteredTotal;
  const search = latencySummary(searchMs);
  console.log(
    `qdrant recall@10 ${fmt(recall, 4)} (language-filtered ${fmt(recallFiltered, 4)}) on ${n} vectors; ` +
      `search p50 ${search.p50_ms} ms p99 ${search.p99_ms} ms; load ${fmt(loadMs / 1000, 1)} s, optimise ${fmt(optimizeMs / 1000, 1)} s ` +
      `(again ${fmt(optimizeAgainMs / 1000, 2)} s), ${opt.indexedVectors}/${opt.points} in HNSW`,
  );
  await client.deleteCollection(`${prefix}_recall`);

  // ---- 2. write path: raw client vs the index sink ---------------------------------------------
  const pool = loadContextPool();
  const template = exampleH as unknown as TrainingExample;
  const examples: TrainingExample[] = [];
  for (let i = 0; i < sinkN; i++) {
    const c = pool[i % pool.length]!;
    const sid = `rs-bench-${i}`;
    examples.push({
      ...template,
      event_id: `h:${sid}:1`,
      recommend_session_id: sid,
      user_id: `user-${i % 500}`,
      context: { ...template.context!, text: `${c.text} (${i})`, language: c.language },
    });
  }
  const records: LogRecord[] = examples.map((h, i) => ({
    ...encodeExample(h),
    topic: 'bench.h',
    partition: 0,
    offset: i,
    timestamp: 0,
  }));
  const embedder = createHashingEmbedder(dim);
  // The points the sink will write, computed ahead so the raw client only upserts.
  const vectors = await embedder.embed(examples.map((h) => h.context!.text));
  const { upserts } = contextPointsFromExamples(
    examples,
    (h) => vectors[Number(h.recommend_session_id.slice(9))],
  );
  const rawPoints = upserts.map((p) => ({
    id: pointIdOf(p.id),
    vector: Array.from(p.vector),
    payload: { ...p.payload, recommend_session_id: p.id },
  }));

  const runRaw = async (round: number) => {
    const name = `${prefix}_raw${round}`;
    const idx = adapter(name);
    await idx.ensure();
    const t = performance.now();
    for (let i = 0; i < rawPoints.length; i += 256)
      await client.upsert(name, { wait: true, points: rawPoints.slice(i, i + 256) });
    const s = ms(t) / 1000;
    const count = await idx.size();
    await client.deleteCollection(name);
    return { pps: rawPoints.length / s, count };
  };
  const runSink = async (round: number) => {
    const name = `${prefix}_sink${round}`;
    const idx = adapter(name);
    await idx.ensure();
    // One slice per apply, so the adapter has two requests in flight (see upsertConcurrency).
    const sink = createIndexSink({ index: idx, embedder, topic: 'bench.h', group: 'bench', sliceSize: 1000 });
    const t = performance.now();
    for (let i = 0; i < records.length; i += 500) await sink.apply(records.slice(i, i + 500));
    const s = ms(t) / 1000;
    const count = await idx.size();
    await client.deleteCollection(name);
    return { pps: upserts.length / s, count };
  };
  // The production path: the same records on a log, read by the sink runtime (deliveries of 500,
  // one apply each), which prepares (decodes and embeds) delivery n+1 while n is written.
  const runRuntime = async (round: number) => {
    const name = `${prefix}_runtime${round}`;
    const idx = adapter(name);
    await idx.ensure();
    const log = new EmbeddedLog({ idleIntervalMs: 50 });
    await log.ensureTopics([
      { topic: 'bench.h', partitions: 1 },
      { topic: 'bench.dead', partitions: 1 },
    ]);
    log.appendSync('bench.h', records);
    const sink = createIndexSink({ index: idx, embedder, topic: 'bench.h', group: 'bench', sliceSize: 1000 });
    const t = performance.now();
    const running = runSinkRuntime(sink, { log, deadLetterTopic: 'bench.dead', maxBatchSize: 500 });
    while (running.stats.records < records.length) {
      if (running.stats.status === 'failed') throw new Error(`index sink failed: ${running.stats.lastError}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const s = ms(t) / 1000;
    await running.stop();
    await log.close();
    const count = await idx.size();
    await client.deleteCollection(name);
    return { pps: upserts.length / s, count, applies: running.stats.applies };
  };
  const runAdapter = async (round: number) => {
    const name = `${prefix}_adapter${round}`;
    const idx = adapter(name);
    await idx.ensure();
    const t = performance.now();
    await idx.upsert(upserts);
    const s = ms(t) / 1000;
    await client.deleteCollection(name);
    return { pps: upserts.length / s };
  };
  // What the sink does besides upserting (decode H, embed the contexts, build the points), alone.
  const cpuStart = performance.now();
  for (let i = 0; i < records.length; i += 500) {
    const { examples: ex } = decodeExamples(records.slice(i, i + 500));
    const hs = ex.map((x) => x.h);
    const byText = await embedContexts((t) => embedder.embed(t), hs);
    contextPointsFromExamples(hs, (h) => (h.context ? byText.get(h.context.text) : null));
  }
  const sinkCpuMsPer1k = ms(cpuStart) / (records.length / 1000);
  const rounds = quick ? 2 : 3;
  const raws = [];
  const sinks = [];
  const adapters = [];
  const runtimes = [];
  for (let r = 0; r < rounds; r++) {
    raws.push(await runRaw(r));
    runtimes.push(await runRuntime(r));
    sinks.push(await runSink(r));
    adapters.push(await runAdapter(r));
  }
  // The machine is shared: the median of alternating rounds, each side's.
  const rawMedian = median(raws.map((x) => x.pps));
  const applyMedian = median(sinks.map((x) => x.pps));
  const sinkMedian = median(runtimes.map((x) => x.pps));
  const adapterMedian = median(adapters.map((x) => x.pps));
  const ratio = sinkMedian / rawMedian;
  const countsOk = [...raws, ...sinks, ...runtimes].every((x) => x.count === upserts.length);
  console.log(
    `qdrant upsert (median of ${rounds}): raw client ${fmt(rawMedian, 0)} points/s, index sink through the runtime ` +
      `${fmt(sinkMedian, 0)} points/s (ratio ${fmt(ratio, 3)}; its apply called directly ${fmt(applyMedian, 0)}, ` +
      `${fmt(applyMedian / rawMedian, 3)}), adapter alone ${fmt(adapterMedian, 0)} points/s; the sink's decode+embed ` +
      `${fmt(sinkCpuMsPer1k, 0)} ms per 1,000 records; counts ${countsOk ? 'exact' : 'WRONG'}`,
  );

  const file = writeResult({
    ...base,
    figures: {
      qdrant_recall_at_10: round(recall, 4),
      qdrant_recall_at_10_language_filtered: round(recallFiltered, 4),
      qdrant_search_p50_ms: search.p50_ms,
      qdrant_search_p99_ms: search.p99_ms,
      qdrant_sink_ratio: round(ratio, 3),
      qdrant_raw_upsert_points_per_s: round(rawMedian, 0),
      qdrant_sink_points_per_s: round(sinkMedian, 0),
      qdrant_adapter_upsert_points_per_s: round(adapterMedian, 0),
      qdrant_adapter_ratio: round(adapterMedian / rawMedian, 3),
    },
    notes: countsOk ? [] : ['a collection did not hold exactly the points written'],
    details: {
      server: await (await fetch(url)).json(),
      recall_load_s: round(loadMs / 1000, 2),
      optimize_s: round(optimizeMs / 1000, 2),
      optimize_again_s: round(optimizeAgainMs / 1000, 3),
      after_optimize: opt,
      search,
      raw_runs_points_per_s: raws.map((x) => round(x.pps, 0)),
      sink_runs_points_per_s: runtimes.map((x) => round(x.pps, 0)),
      sink_runtime_applies: runtimes.map((x) => x.applies),
      sink_apply_direct_runs_points_per_s: sinks.map((x) => round(x.pps, 0)),
      sink_apply_direct_ratio: round(applyMedian / rawMedian, 3),
      adapter_runs_points_per_s: adapters.map((x) => round(x.pps, 0)),
      sink_decode_embed_ms_per_1k_records: round(sinkCpuMsPer1k, 1),
      sink_apply:
        'qdrant_sink_ratio: runSink over an EmbeddedLog (deliveries of 500, prepare of the next while one is written); ' +
        'sink_apply_direct: createIndexSink().apply called in a loop, 500 records per call, no prepare',
      load_before: loadBefore,
    },
    machine: machine(),
  });
  console.log(`wrote ${file}`);
} finally {
  for (const c of created) await client.deleteCollection(c).catch(() => {});
}
