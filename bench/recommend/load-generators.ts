import http from 'node:http';
import { createRequire } from 'node:module';
import { percentile, round } from '../lib/common.ts';
import type { Server } from './server-handle.ts';

/** The load generators (autocannon, closed loop; an open loop of our own) and what they measure. */

// autocannon ships no types; this is the part of its API used here.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
interface AutocannonInstance {
  on(event: 'response', f: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (
  opts: {
    url: string;
    connections: number;
    duration: number;
    overallRate?: number;
    requests: (AutocannonRequest & {
      setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
    })[];
  },
  cb: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export function summarise(ms: number[]) {
  const s = ms.sort((a, b) => a - b);
  return {
    p50_ms: round(percentile(s, 50), 2),
    p95_ms: round(percentile(s, 95), 2),
    p99_ms: round(percentile(s, 99), 2),
    max_ms: round(s[s.length - 1] ?? Number.NaN, 2),
  };
}

/** What one load run saw: every response time, and the failures. */
export interface Run {
  readonly requests: number;
  readonly ms: number[];
  readonly non2xx: number;
  readonly errors: number;
  readonly result?: AutocannonResult;
  /** The open-loop generator gave up: more than 2 s of requests were unanswered. */
  readonly overloaded?: boolean;
}

export interface Measured {
  readonly r: Run;
  readonly wallS: number;
  readonly serverCores: number;
  readonly elu: number;
  readonly driverCores: number;
}

/** Runs a load phase with the server's CPU and event-loop use, and this process's CPU, around it. */
export async function measured(server: Server, run: () => Promise<Run>): Promise<Measured> {
  const c0 = await server.cpu();
  const d0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await run();
  const wallS = (performance.now() - t0) / 1000;
  const d = process.cpuUsage(d0);
  const c1 = await server.cpu();
  const active = c1.eluActive - c0.eluActive;
  const idle = c1.eluIdle - c0.eluIdle;
  return {
    r,
    wallS,
    serverCores: round((c1.cpuMicros - c0.cpuMicros) / 1e6 / wallS, 2),
    elu: round(active / Math.max(1e-9, active + idle), 2),
    driverCores: round((d.user + d.system) / 1e6 / wallS, 2),
  };
}

export function runAutocannon(o: {
  url: string;
  method: 'GET' | 'POST';
  bodies?: readonly string[];
  connections: number;
  duration: number;
  overallRate?: number;
}): Promise<Run> {
  const ms: number[] = [];
  let non2xx = 0;
  let next = 0;
  const bodies = o.bodies;
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: o.duration,
        overallRate: o.overallRate,
        requests: [
          {
            method: o.method,
            headers: { 'content-type': 'application/json' },
            ...(bodies ? { setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length]! }) } : {}),
          },
        ],
      },
      (err, result) =>
        err ? reject(err) : resolve({ requests: ms.length, ms, non2xx, errors: result.errors, result }),
    );
    inst.on('response', (_c, status, _b, t) => {
      ms.push(t);
      if (status < 200 || status >= 300) non2xx++;
    });
  });
}

/**
 * Open loop: request i is due at t0 + i/rate and timed from then, whether or not a connection was
 * free, so a stall shows in the latencies instead of silently lowering the rate.
 */
export function runPaced(o: {
  port: number;
  path: string;
  bodies: readonly string[];
  rate: number;
  duration: number;
  maxSockets: number;
}): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets });
  let total = Math.round(o.rate * o.duration);
  let overloaded = false;
  const ms: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let done = 0;
  return new Promise((resolve) => {
    const t0 = performance.now();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      agent.destroy();
      resolve({ requests: ms.length, ms, non2xx, errors, overloaded });
    };
    const one = (i: number) => {
      const due = t0 + (i * 1000) / o.rate;
      const body = o.bodies[i % o.bodies.length]!;
      const req = http.request(
        {
          agent,
          host: '127.0.0.1',
          port: o.port,
          method: 'POST',
          path: o.path,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            ms.push(performance.now() - due);
            if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) non2xx++;
            if (++done === total) finish();
          });
        },
      );
      req.on('error', () => {
        errors++;
        if (++done === total) finish();
      });
      req.end(body);
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1);
      // More than 2 s of requests unanswered: the server cannot keep this rate. Stop adding to
      // its backlog (the phase is reported as overloaded) and let what was sent come back.
      if (sent - done > 2 * o.rate) {
        overloaded = true;
        total = sent;
        if (done === total) finish();
        return;
      }
      while (sent < due) one(sent++);
    }, 1);
    setTimeout(finish, o.duration * 1000 + 15_000).unref();
  });
}

/**
 * Waits until the server's event loop is free again (a GET /bare answers within 20 ms, three times
 * in a row), so one phase's backlog does not spill into the next.
 */
export async function settle(port: number, maxMs = 60_000): Promise<void> {
  const until = Date.now() + maxMs;
  let fast = 0;
  while (fast < 3 && Date.now() < until) {
    const t0 = performance.now();
    try {
      await fetch(`http://127.0.0.1:${port}/bare`);
    } catch {
      // a refused or reset connection: try again
    }
    fast = performance.now() - t0 < 20 ? fast + 1 : 0;
    await new Promise((r) => setTimeout(r, 50));
  }
}
