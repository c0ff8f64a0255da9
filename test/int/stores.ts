import type { Services, StoreVariable } from './global-setup.ts';

/**
 * The URL of a store an integration test needs (MONGODB_URL, ES_URL, QDRANT_URL, EMBEDDINGS_API_BASE,
 * LLM_API_BASE), or null to skip
 * it with the reason printed. Under CI=true a missing store is a failure, as for Kafka and Redis.
 *
 * @example
 * const url = storeUrl(inject('services'), 'MONGODB_URL');
 * describe.skipIf(!url)('archive sink', () => { … });
 */
export function storeUrl(svc: Services, v: StoreVariable): string | null {
  const url = svc.stores[v];
  if (url) return url;
  const why = svc.storeProblems[v] ?? `${v} unavailable`;
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true: a missing service is a failure)`);
  console.warn(`⚠ ${why}: these tests are SKIPPED, not passed`);
  return null;
}
