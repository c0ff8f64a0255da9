import cluster, { type Worker } from 'node:cluster';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type ApiDeps, createApi } from '../../api/app.ts';
import type { EventSink } from '../../api/event-sink.ts';
import { createAbRouter } from '../../api/paraphrase/ab-router.ts';
import { createOfflineParaphraser } from '../../api/paraphrase/offline-paraphraser.ts';
import { eventJson } from '../../api/recommend-event.ts';
import { DEFAULT_SCORING_CONFIG } from '../../api/scoring/index.ts';
import { createQdrantVectorIndex } from '../../api/vector/qdrant-vector-index.ts';
import type { VectorIndex } from '../../api/vector/vector-index.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { DEFAULT_VOCABULARY } from '../../schemas/index.ts';
import { createHashingEmbedder } from '../../streams/embeddings/hashing-embedder.ts';
import { round } from '../lib/common.ts';
import { inProcessRecommender } from './in-process.ts';
import {
  type CpuMessage,
  type InProcessDone,
  type InProcessMessage,
  PROFILE_DIR,
  type ReadyMessage,
  type ServeParams,
} from './protocol.ts';
import { buildServerData } from './server-data.ts';
import { withSearch } from './with-search.ts';

/**
 * The benchmark's server child (`fork`ed by server-handle.ts with its parameters as JSON): builds
 * the API on synthetic data (server-data.ts), serves it and a bare Hono app, and answers the
 * parent's CPU, profile and stop messages. With `workers` > 1 it is a node:cluster primary.
 */

/** A port nothing listens on now (the cluster's workers then share it through the primary). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * With `workers` > 1 the server child is a node:cluster primary: it forks the workers (each builds
 * the same data from the same seed and serves both apps on two shared ports), and answers the
 * parent for all of them — CPU summed, event-loop use averaged, profiles from the first worker.
 */
async function clusterPrimary(params: ServeParams): Promise<void> {
  const ports = { api: await freePort(), bare: await freePort() };
  const workers = Array.from({ length: params.workers }, () =>
    cluster.fork({ BENCH_SERVER_PORTS: JSON.stringify(ports) }),
  );
  const replies = new Map<string, (m: Record<string, unknown>) => void>();
  const ask = (w: Worker, msg: Record<string, unknown>, answer: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      replies.set(`${w.id}:${answer}`, resolve);
      w.send(msg);
    });
  const readies = workers.map(
    (w) =>
      new Promise<ReadyMessage>((resolve, reject) => {
        w.once('exit', (code) =>
          reject(new Error(`bench server worker exited (${code}) before it was ready`)),
        );
        w.on('message', (m: { type: string } & Record<string, unknown>) => {
          if (m.type === 'ready') resolve(m as unknown as ReadyMessage);
          else replies.get(`${w.id}:${m.type}`)?.(m);
        });
      }),
  );
  const ready = await Promise.all(readies);
  process.send!({ ...ready[0]!, build: { ...ready[0]!.build, workers: params.workers } });
  process.on('message', (m: { type: string; id?: number; file?: string }) => {
    void (async () => {
      if (m.type === 'cpu') {
        const all = await Promise.all(workers.map((w) => ask(w, m, 'cpu')));
        const sum = (k: string) => all.reduce((a, x) => a + (x[k] as number), 0);
        const own = process.cpuUsage();
        process.send!({
          type: 'cpu',
          id: m.id,
          cpuMicros: sum('cpuMicros') + own.user + own.system,
          eluActive: sum('eluActive') / all.length,
          eluIdle: sum('eluIdle') / all.length,
          heapMb: sum('heapMb'),
          rssMb: sum('rssMb'),
        });
      } else if (m.type === 'in-process') {
        // Every worker at once, as the HTTP phases load them all.
        const all = await Promise.all(workers.map((w) => ask(w, m, 'in-process-done')));
        const done: InProcessDone = {
          type: 'in-process-done',
          calls: all.reduce((a, x) => a + (x.calls as number), 0),
          ms: Math.max(...all.map((x) => x.ms as number)),
          cpuMs: all.reduce((a, x) => a + (x.cpuMs as number), 0),
          workers: all.length,
        };
        process.send!(done);
      } else if (m.type === 'profile-start') {
        process.send!(await ask(workers[0]!, m, 'profile-started'));
      } else if (m.type === 'profile-stop') {
        process.send!(await ask(workers[0]!, m, 'profile-stopped'));
      } else if (m.type === 'stop') {
        const all = await Promise.all(workers.map((w) => ask(w, m, 'stopped')));
        const emitted = all.reduce((a, x) => a + (x.emitted as number), 0);
        const emittedBytes = all.reduce((a, x) => a + (x.emittedBytes as number), 0);
        const searchErrors = all.reduce((a, x) => a + (x.searchErrors as number), 0);
        process.send!({ type: 'stopped', emitted, emittedBytes, searchErrors });
        setTimeout(() => process.exit(0), 100);
      }
    })();
  });
}

async function serveMain(params: ServeParams): Promise<void> {
  if (params.workers > 1 && cluster.isPrimary) return clusterPrimary(params);
  const fixedPorts = process.env.BENCH_SERVER_PORTS
    ? (JSON.parse(process.env.BENCH_SERVER_PORTS) as { api: number; bare: number })
    : null;
  const data = await buildServerData(params, { index: !params.qdrant });
  const { profiles, clusters, docs, bodies } = data;
  const { dim } = params;
  const backend: VectorIndex = params.qdrant
    ? createQdrantVectorIndex({ ...params.qdrant, dim })
    : data.index!;
  // Failed searches (Qdrant away or over its timeout) make answers degraded, still 200s: counted
  // here so a fast p99 of answers without P_vec cannot pass for one with it.
  let searchErrors = 0;
  const index = withSearch(backend, (v, k, f) =>
    backend.search(v, k, f).catch((e: unknown) => {
      searchErrors++;
      throw e;
    }),
  );
  let emitted = 0;
  let emittedBytes = 0;
  const events: EventSink = {
    // What the Kafka sink (api/batching-event-sink.ts) does per event, short of the network:
    // serialise it, as it does (eventJson) — and as Buffer.from would, count its bytes.
    emit: async (e) => {
      emitted++;
      emittedBytes += Buffer.byteLength(eventJson(e));
    },
  };
  const embedder = createHashingEmbedder(dim);
  // One set of dependencies for the API and the in-process ceiling: the same stores, config and
  // cluster cache settings on both sides of recommend_overhead_ratio.
  const deps: ApiDeps = {
    events,
    profiles,
    clusters,
    index,
    embedder,
    router: createAbRouter({ a: createOfflineParaphraser(), salt: 'bench' }),
    docs,
    vocabulary: DEFAULT_VOCABULARY,
    scoring: DEFAULT_SCORING_CONFIG,
    personalised: true,
    metrics: new MetricsRegistry(),
    clock: Date.now,
  };
  const app = createApi(deps);
  const bare = new Hono();
  bare.get('/bare', (c) => c.json({ ok: true }));
  bare.post('/bare', async (c) => {
    await c.req.json();
    return c.json({ ok: true });
  });

  const listen = (fetch: (req: Request) => Response | Promise<Response>, port: number) =>
    new Promise<{ port: number; close: () => void }>((resolve) => {
      const server = serve({ fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ port: info.port, close: () => server.close() }),
      );
    });
  const apiServer = await listen(app.fetch, fixedPorts?.api ?? 0);
  const bareServer = await listen(bare.fetch, fixedPorts?.bare ?? 0);
  const ready: ReadyMessage = {
    type: 'ready',
    apiPort: apiServer.port,
    barePort: bareServer.port,
    build: {
      ...data.build,
      heap_mb: round(process.memoryUsage().heapUsed / 2 ** 20),
      rss_mb: round(process.memoryUsage().rss / 2 ** 20),
    },
    bodies,
  };
  process.send!(ready);

  const inProcess = inProcessRecommender(deps, bodies);
  let profiler: Session | null = null;
  process.on('message', (m: { type: string; id?: number }) => {
    if (m.type === 'in-process') {
      const cpu0 = process.cpuUsage();
      void inProcess((m as unknown as InProcessMessage).durationMs).then(({ calls, ms }) => {
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        const done: InProcessDone = { type: 'in-process-done', calls, ms, cpuMs, workers: 1 };
        process.send!(done);
      });
    } else if (m.type === 'cpu') {
      const u = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      const mem = process.memoryUsage();
      const reply: CpuMessage = {
        type: 'cpu',
        id: m.id!,
        cpuMicros: u.user + u.system,
        eluActive: elu.active,
        eluIdle: elu.idle,
        heapMb: round(mem.heapUsed / 2 ** 20),
        rssMb: round(mem.rss / 2 ** 20),
      };
      process.send!(reply);
    } else if (m.type === 'profile-start') {
      void (async () => {
        profiler ??= new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
        await profiler.post('Profiler.start');
        process.send!({ type: 'profile-started' });
      })();
    } else if (m.type === 'profile-stop') {
      void (async () => {
        const { profile } = await profiler!.post('Profiler.stop');
        profiler!.disconnect();
        const file = (m as { file?: string }).file!;
        mkdirSync(PROFILE_DIR, { recursive: true });
        writeFileSync(file, JSON.stringify(profile));
        process.send!({ type: 'profile-stopped', file });
      })();
    } else if (m.type === 'stop') {
      apiServer.close();
      bareServer.close();
      process.send!({ type: 'stopped', emitted, emittedBytes, searchErrors });
      // process.exit, not a drain: keep-alive sockets of the load generator would hold it open.
      // --cpu-prof still writes its profile on exit.
      setTimeout(() => process.exit(0), 50);
    }
  });
}

const isMain = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) await serveMain(JSON.parse(process.argv[2]!) as ServeParams);
