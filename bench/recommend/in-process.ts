import type { ApiDeps } from '../../api/app.ts';
import { createRecommendSources, recommendInputs, scoreRecommendation } from '../../api/recommend-core.ts';
import { detectLanguage, recommendRequestSchema } from '../../api/schemas.ts';
import { explorationDraw } from '../../api/scoring/index.ts';

/**
 * The search + scoring of POST /recommend called in process: the very functions the route calls
 * (api/recommend-core.ts — `recommendInputs`: embed the text, then read the profile, the user's
 * cluster, the cached cluster list, the nearest contexts (k = 20, same language) and the
 * document's history together; `scoreRecommendation`: pick the cluster, score the options), with
 * the same sources and config as the route builds from `deps`. Left out is what only the HTTP
 * route does: reading and validating the body (parsed once ahead), opening the session, building
 * and emitting A, the JSON answer, Hono's routing and middleware. The rate of this loop is the
 * ceiling of the route on the same data; `recommend_overhead_ratio` = the HTTP rate ÷ this one.
 *
 * @example
 * const run = inProcessRecommender(deps, bodies);
 * const { calls } = await run(5000);
 */
export function inProcessRecommender(
  deps: Pick<
    ApiDeps,
    | 'embedder'
    | 'profiles'
    | 'clusters'
    | 'index'
    | 'docs'
    | 'vocabulary'
    | 'scoring'
    | 'personalised'
    | 'clock'
    | 'neighbours'
    | 'clusterCacheMs'
  >,
  bodies: readonly string[],
) {
  const sources = createRecommendSources(deps);
  const requests = bodies.map((b) => recommendRequestSchema.parse(JSON.parse(b)));
  let sessions = 0;

  async function once(i: number): Promise<number> {
    const body = requests[i % requests.length]!;
    const language = body.language ?? detectLanguage(body.text);
    const inputs = await recommendInputs(sources, {
      userId: body.user_id,
      text: body.text,
      language,
      docId: body.doc_id,
    });
    const { result } = scoreRecommendation(sources, inputs, {
      language,
      docField: body.doc_field ?? null,
      draw: explorationDraw(`bench-${sessions++}`),
    });
    return result.options.length;
  }

  /** Calls `once` back to back for `durationMs`; the calls completed and the wall time. */
  return async (durationMs: number): Promise<{ calls: number; ms: number }> => {
    const t0 = performance.now();
    let calls = 0;
    while (performance.now() - t0 < durationMs) {
      if ((await once(calls)) === 0) throw new Error('scoring returned no options');
      calls++;
    }
    return { calls, ms: performance.now() - t0 };
  };
}
