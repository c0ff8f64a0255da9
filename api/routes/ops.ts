import { Hono } from 'hono';
import { buildOpenApi } from '../openapi.ts';
import type { HealthResponse, ReadyResponse } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
export function opsRoutes(ctx: RouteContext) {
  const { deps } = ctx;
  const openapi = buildOpenApi(deps.vocabulary);

  return new Hono()
    .get('/health', (c) => c.json({ status: 'ok' } satisfies HealthResponse))
    .get('/ready', (c) => {
      const ready = deps.ready?.() ?? true;
      return c.json({ ready, ...deps.readyDetails?.() } satisfies ReadyResponse, ready ? 200 : 503);
    })
    .get('/metrics', async (c) =>
      c.text(await (deps.metricsText?.() ?? deps.metrics.render()), 200, {
        'content-type': deps.metrics.contentType,
      }),
    )
    .get('/openapi.json', (c) => c.json(openapi));
}
