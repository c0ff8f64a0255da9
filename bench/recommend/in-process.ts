import type { ApiDeps } from '../../api/app.ts';
import { detectLanguage, recommendRequestSchema } from '../../api/schemas.ts';
import { explorationDraw, pickCluster, scoreOptions } from '../../api/scoring/index.ts';
import type { ClusterProfile, UserProfile } from '../../schemas/index.ts';

/**
 * The search + scoring that POST /recommend does (api/routes/recommend.ts), called in process:
 * embed the text, read the profile, the user's cluster, the cluster list, the nearest contexts
 * (k = 20, same language) and the document's history together, pick the cluster, score the
 * options. Left out is what only HTTP needs: reading and validating the body (parsed once ahead),
 * building and serialising A, the JSON answer, Hono's routing and middleware. The rate of this
 * loop is the ceiling of the route on the same data; `recommend_overhead_ratio` = the HTTP rate ÷
 * this one.
 *
 * @example
 * const run = inProcessRecommender(deps, bodies);
 * const { calls } = await run(5000);
 */
export function inProcessRecommender(
  deps: Pick<ApiDeps, 'embedder' | 'profiles' | 'clusters' | 'index' | 'docs' | 'vocabulary' | 'scoring'>,
  bodies: readonly string[],
  k = 20,
) {
  const requests = bodies.map((b) => recommendRequestSchema.parse(JSON.parse(b)));
  // The route caches the cluster list for 5 s; within a run it does not change.
  let clusterList: ClusterProfile[] | null = null;
  let sessions = 0;

  async function once(i: number): Promise<number> {
    const body = requests[i % requests.length]!;
    const language = body.language ?? detectLanguage(body.text);
    const [embedding] = await deps.embedder.embed([body.text]);
    const [profile0, clusterId, clusters, neighbours, history] = await Promise.all([
      deps.profiles.getMany([body.user_id]).then((r) => r[0] ?? null),
      deps.clusters.clusterOf([body.user_id]).then((r) => r[0] ?? null),
      clusterList ? Promise.resolve(clusterList) : deps.clusters.clusters(),
      deps.index.search(embedding!, k, { language }),
      body.doc_id ? deps.docs.history(body.doc_id) : Promise.resolve({}),
    ]);
    clusterList = clusters;
    let profile: UserProfile | null = profile0;
    if (profile && clusterId !== null) profile = { ...profile, cluster_id: clusterId };
    const cluster = pickCluster(profile, clusters, embedding!);
    const result = scoreOptions({
      vocabulary: deps.vocabulary,
      language,
      neighbours,
      doc: { field: body.doc_field ?? null, history },
      profile,
      embedding: embedding!,
      cluster,
      config: deps.scoring,
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
