import type { VectorIndex } from '../../api/vector/vector-index.ts';

/**
 * The index with its `search` replaced (counted, cached, …) and every other member passed through,
 * so a benchmark's wrapper cannot drop one (erasure's `deleteByUser` included).
 */
export function withSearch(index: VectorIndex, search: VectorIndex['search']): VectorIndex {
  const deleteByUser = index.deleteByUser?.bind(index);
  return {
    backend: index.backend,
    dim: index.dim,
    upsert: (points) => index.upsert(points),
    delete: (ids) => index.delete(ids),
    size: () => index.size(),
    search,
    ...(deleteByUser ? { deleteByUser } : {}),
  };
}
