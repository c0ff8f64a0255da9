import { Hono } from 'hono';
import type { MetricsRegistry } from './metrics.ts';

export interface OpsAppOptions {
  readonly metrics: MetricsRegistry;
  /** Whether the process is ready, and the details `/ready` shows (per-sink lag, counts). */
  readonly ready: () => { ready: boolean; details: Record<string, unknown> };
}

/**
 * `/health` (alive), `/ready` (200 once ready, with details; 503 before) and `/metrics`
 * (Prometheus text from prom-client) for a process that serves no API of its own: the stream
 * processor.
 *
 * @example
 * serve({ fetch: createOpsApp({ metrics, ready: () => ({ ready: true, details: topology.details() }) }).fetch, port: 9464 });
 */
export function createOpsApp(o: OpsAppOptions): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', (c) => {
    const r = o.ready();
    return c.json({ ready: r.ready, ...r.details }, r.ready ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await o.metrics.render(), 200, { 'content-type': o.metrics.contentType }),
  );
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  return app;
}
