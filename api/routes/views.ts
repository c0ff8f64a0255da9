import { Hono } from 'hono';
import type { UserProfile } from '../../schemas/index.ts';
import { ApiError } from '../errors.ts';
import { pathText } from '../request-body.ts';
import type { ClustersResponse, FullProfileResponse, SlimProfileResponse } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/**
 * The slim profile an editor reads: G without the 384-number embedding means, the fold's applied
 * offsets and its per-session bookkeeping (a few hundred bytes instead of ~50 KB). Pure.
 */
export function slimProfile(p: UserProfile): SlimProfileResponse {
  const { embedding, option_embeddings: _e, applied_offsets: _o, recent, ...rest } = p;
  return {
    ...rest,
    view: 'slim',
    embedded_sessions: embedding?.n ?? 0,
    recent_sessions: Object.keys(recent).length,
  };
}

/**
 * The materialised views: a user's profile (G; slim by default, `?view=full` as stored) and the
 * cluster profiles (J).
 */
export function viewRoutes(ctx: RouteContext) {
  const { deps } = ctx;

  return new Hono()
    .get('/users/:id/profile', async (c) => {
      const id = pathText(c.req.param('id'), 'id');
      const view = c.req.query('view') ?? 'slim';
      if (view !== 'slim' && view !== 'full') {
        throw new ApiError('invalid_request', `view: "${view.slice(0, 50)}" is not slim or full`, {
          status: 400,
          details: [{ path: 'view', message: 'slim or full' }],
        });
      }
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
        throw ctx.storeUnavailable(
          'profiles',
          'profile_store_unavailable',
          'the profile store is unreachable',
          err,
        );
      }
      if (!profile)
        throw new ApiError('not_found', `no profile for user ${id} yet (a cold-start user)`, { status: 404 });
      const full: FullProfileResponse = { ...profile, cluster_id: clusterId ?? profile.cluster_id };
      return c.json(view === 'full' ? full : slimProfile(full));
    })
    .get('/clusters', async (c) => {
      let response: ClustersResponse;
      try {
        response = { clusters: await deps.clusters.clusters() };
      } catch (err) {
        throw ctx.storeUnavailable(
          'clusters',
          'cluster_store_unavailable',
          'the cluster store is unreachable',
          err,
        );
      }
      return c.json(response);
    });
}
