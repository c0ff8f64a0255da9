import { Hono } from 'hono';
import type { UserProfile } from '../../schemas/index.ts';
import { ApiError, UpstreamError } from '../errors.ts';
import type { ClustersResponse, ProfileResponse } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** The materialised views read as they are: a user's profile (G) and the cluster profiles (J). */
export function viewRoutes(ctx: RouteContext) {
  const { deps } = ctx;
  const m = deps.metrics;

  return new Hono()
    .get('/users/:id/profile', async (c) => {
      const id = c.req.param('id');
      let profile: UserProfile | null;
      let clusterId: number | null;
      try {
        const [profiles, clusterIds] = await Promise.all([
          deps.profiles.getMany([id]),
          deps.clusters.clusterOf([id]),
        ]);
        profile = profiles[0] ?? null;
        clusterId = clusterIds[0] ?? null;
      } catch (err) {
        m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store: 'profiles' });
        throw new UpstreamError('profile_store_unavailable', 'the profile store is unreachable', err, 503);
      }
      if (!profile)
        throw new ApiError('not_found', `no profile for user ${id} yet (a cold-start user)`, { status: 404 });
      const response: ProfileResponse = { ...profile, cluster_id: clusterId ?? profile.cluster_id };
      return c.json(response);
    })
    .get('/clusters', async (c) => {
      let response: ClustersResponse;
      try {
        response = { clusters: await deps.clusters.clusters() };
      } catch (err) {
        m.inc('sentencify_store_errors_total', 'Failed reads or writes of a store', { store: 'clusters' });
        throw new UpstreamError('cluster_store_unavailable', 'the cluster store is unreachable', err, 503);
      }
      return c.json(response);
    });
}
