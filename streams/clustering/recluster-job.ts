import type { MetricsRegistry } from '../../common/metrics.ts';
import { DEFAULT_VOCABULARY, type OptionVocabulary, type UserProfile } from '../../schemas/index.ts';
import type { Retrier } from '../runtime/retry.ts';
import type { ClusterStore, ProfileStore } from '../stores/profile-store.ts';
import { type ReclusterInput, type ReclusterResult, recluster } from './cluster-profiles.ts';

/**
 * Profiles read per round trip while collecting G for a run. Small, because the scan shares the
 * event loop and the Redis connection with the join and the fold: each page's reply and JSON.parse
 * hold up whatever is queued behind it. With 100 per page the scan of 1,000 profiles put
 * 100–200 ms into the freshness of the sessions arriving meanwhile (its p99 0.07–0.3 s against
 * 0.045 s with re-clustering off); with 20, p99 0.028–0.038 s (bench/freshness.ts).
 */
const SCAN_PAGE = 20;

export interface ReclusterJobOptions {
  readonly profiles: ProfileStore;
  readonly clusters: ClusterStore;
  readonly k: number;
  readonly seed: number;
  readonly embeddingDim: number;
  readonly vocabulary?: OptionVocabulary;
  /** Re-cluster after this many profile updates (0 = only when asked or on the timer). */
  readonly everyUpdates: number;
  /** Where k-means runs (default: in this thread; production passes the worker-thread runner). */
  readonly run?: (input: ReclusterInput) => Promise<ReclusterResult>;
  readonly retrier: Retrier;
  readonly metrics?: MetricsRegistry;
  readonly onError?: (err: unknown) => void;
}

export interface ReclusterStats {
  reclusters: number;
  lastRecluster: { users: number; clusters: number; ts: string; ms: number } | null;
}

/**
 * The periodic K-means over G that keeps J (cluster profiles) and the user → cluster mapping:
 * counted profile updates trigger it, a timer or a caller can too; one run at a time (a request
 * while one runs joins it), in the background so the profile fold keeps flowing.
 *
 * @example
 * const job = createReclusterJob({ profiles, clusters, k: 8, seed: 1, embeddingDim: 384, everyUpdates: 1000, retrier });
 * profileSink.onFolded = (n, ts) => job.profilesChanged(n, ts);
 */
export function createReclusterJob(o: ReclusterJobOptions) {
  const stats: ReclusterStats = { reclusters: 0, lastRecluster: null };
  const run = o.run ?? (async (input: ReclusterInput) => recluster(input));
  let since = 0;
  let latestTs: string | null = null;
  let running: Promise<void> | null = null;

  const once = async () => {
    since = 0;
    const t0 = performance.now();
    const all: UserProfile[] = [];
    await o.retrier.io(async () => {
      all.length = 0;
      // Small pages: each page's JSON is parsed on the event loop the profile fold runs on, so a
      // page of 100 (~1 MB of stored profiles) holds up its next write by a few ms, not by tens.
      for await (const page of o.profiles.scan(SCAN_PAGE)) all.push(...page);
    }, 'scan profiles');
    const res = await run({
      profiles: all,
      k: o.k,
      seed: o.seed,
      vocabulary: o.vocabulary ?? DEFAULT_VOCABULARY,
      embeddingDim: o.embeddingDim,
      ts: latestTs ?? new Date(0).toISOString(),
      version: stats.reclusters + 1,
    });
    await o.retrier.io(() => o.clusters.replace(res.clusters, res.assignments), 'write clusters');
    const ms = performance.now() - t0;
    stats.reclusters += 1;
    stats.lastRecluster = {
      users: res.assignments.size,
      clusters: res.clusters.length,
      ts: latestTs ?? '',
      ms,
    };
    o.metrics?.inc('sentencify_recluster_runs_total', 'Completed re-clusterings of users into J');
    o.metrics?.observe(
      'sentencify_recluster_duration_ms',
      'Time of one re-clustering',
      ms,
      {},
      [10, 50, 100, 500, 1000, 2500, 5000, 10000, 30000],
    );
  };

  const now = (): Promise<void> => {
    if (!running) {
      running = once().finally(() => {
        running = null;
      });
    }
    return running;
  };

  return {
    stats,
    /** Re-clusters now (or joins the run in progress). */
    now,
    /** The profile fold reports its writes; enough of them start a run in the background. */
    profilesChanged(changed: number, ts: string | null) {
      if (ts !== null && (latestTs === null || ts > latestTs)) latestTs = ts;
      since += changed;
      if (o.everyUpdates > 0 && since >= o.everyUpdates) {
        now().catch((err) => {
          o.metrics?.inc('sentencify_recluster_failures_total', 'Re-clusterings that failed');
          o.onError?.(err);
        });
      }
    },
  };
}

export type ReclusterJob = ReturnType<typeof createReclusterJob>;
