/**
 * overhead-probe — the CPU one POST /recommend costs over HTTP beyond its search + scoring, in
 * one process, on a shared machine:
 *
 *   npx tsx bench/recommend/overhead-probe.ts [--rounds 8] [--cached]
 *
 * Builds the benchmark's quick data (bench/recommend/server-data.ts), serves `createApi` with
 * @hono/node-server and sends it requests one at a time over one keep-alive socket from a raw
 * client in the same process; in alternating rounds of 0.8 s it also calls the route's search +
 * scoring in process (in-process.ts). It prints the process CPU per call of each (medians over the
 * rounds) and their difference: what HTTP, Hono, the body, the session, A and the answer cost (the
 * raw client's few tens of µs included). `--cached` answers repeated searches from a cache so the
 * overhead is most of what is measured. Not a suite figure: `recommend_overhead_ratio` is
 * recommend-load.ts's; this is for comparing two trees (`cd /tmp/before && npx tsx …`) when other
 * work on the machine moves the rates by ×2.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { type ApiDeps, createApi } from '../../api/app.ts';
import { createAbRouter } from '../../api/paraphrase/ab-router.ts';
import { createOfflineParaphraser } from '../../api/paraphrase/offline-paraphraser.ts';
import { eventJson } from '../../api/recommend-event.ts';
import { DEFAULT_SCORING_CONFIG } from '../../api/scoring/index.ts';
import type { SearchHit } from '../../api/vector/vector-index.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { DEFAULT_VOCABULARY } from '../../schemas/index.ts';
import { createHashingEmbedder } from '../../streams/embeddings/hashing-embedder.ts';
import { inProcessRecommender } from './in-process.ts';
import { buildServerData } from './server-data.ts';
import { withSearch } from './with-search.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '8' }, cached: { type: 'boolean', default: false } },
});
const data = await buildServerData({
  users: 2_000,
  contexts: 20_000,
  dim: 384,
  koShare: 0.5,
  seed: 7,
  workers: 1,
});
const memory = data.index!;
const cache = new Map<string, SearchHit[]>();
const index = withSearch(memory, async (v, k, f) => {
  if (!args.cached) return memory.search(v, k, f);
  const key = `${f?.language}:${Array.from(v).join(',')}`;
  let hits = cache.get(key);
  if (!hits) {
    hits = await memory.search(v, k, f);
    cache.set(key, hits);
  }
  return hits;
});
const deps: ApiDeps = {
  // As the benchmark's server: A serialised as the Kafka sink does it, then dropped.
  events: { emit: async (e) => void Buffer.byteLength(eventJson(e)) },
  profiles: data.profiles,
  clusters: data.clusters,
  index,
  embedder: createHashingEmbedder(384),
  router: createAbRouter({ a: createOfflineParaphraser(), salt: 'bench' }),
  docs: data.docs,
  vocabulary: DEFAULT_VOCABULARY,
  scoring: DEFAULT_SCORING_CONFIG,
  personalised: true,
  metrics: new MetricsRegistry(),
  clock: Date.now,
};
const inProcess = inProcessRecommender(deps, data.bodies);
const port = await new Promise<number>((resolve) => {
  serve({ fetch: createApi(deps).fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
});
const socket = net.connect(port, '127.0.0.1');
await new Promise((resolve) => socket.once('connect', resolve));
socket.setNoDelay(true);
const requests = data.bodies.map((b) =>
  Buffer.from(
    `POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
  ),
);
let answered: (() => void) | null = null;
let buffered = '';
socket.on('data', (d: Buffer) => {
  buffered += d.toString('latin1');
  const end = buffered.indexOf('\r\n\r\n');
  if (end < 0) return;
  const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1]);
  if (buffered.length < end + 4 + length) return;
  if (!buffered.startsWith('HTTP/1.1 200')) throw new Error(`not a 200: ${buffered.slice(0, 200)}`);
  buffered = buffered.slice(end + 4 + length);
  const done = answered;
  answered = null;
  done?.();
});
let sent = 0;
const overHttp = async (ms: number): Promise<number> => {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    await new Promise<void>((resolve) => {
      answered = resolve;
      socket.write(requests[sent++ % requests.length]!);
    });
    n++;
  }
  return n;
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

await inProcess(2000);
await overHttp(2000);
const inProc: number[] = [];
const http: number[] = [];
for (let r = 0; r < Number(args.rounds); r++) {
  let c0 = cpuMs();
  const { calls } = await inProcess(800);
  inProc.push((cpuMs() - c0) / calls);
  c0 = cpuMs();
  const n = await overHttp(800);
  http.push((cpuMs() - c0) / n);
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    cached_search: args.cached,
    in_process_cpu_ms_per_call: round3(median(inProc)),
    http_cpu_ms_per_request: round3(median(http)),
    overhead_cpu_ms: round3(median(http) - median(inProc)),
  }),
);
process.exit(0);
