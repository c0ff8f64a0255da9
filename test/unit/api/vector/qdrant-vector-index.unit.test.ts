import { QdrantClientResourceExhaustedError, QdrantClientTimeoutError } from '@qdrant/js-client-rest';
import { describe, expect, it } from 'vitest';
import { createQdrantVectorIndex, toQdrantError } from '../../../../api/vector/qdrant-vector-index.ts';
import { VectorIndexError } from '../../../../api/vector/vector-index.ts';
import { isRetriable } from '../../../../streams/sinks/sink.ts';
import { payloadOf } from '../../../helpers/vector-index-contract.ts';

/** What @qdrant/openapi-typescript-fetch throws for a non-2xx answer. */
const apiError = (status: number, error = 'boom') =>
  Object.assign(new Error('Bad Request'), { status, data: { status: { error } }, headers: new Headers() });

describe('toQdrantError', () => {
  it.each([
    [apiError(400, 'Wrong input: Vector dimension error'), 'qdrant_bad_request', false],
    [apiError(401), 'qdrant_unauthorized', false],
    [apiError(403), 'qdrant_unauthorized', false],
    [apiError(404), 'qdrant_collection_missing', false],
    [apiError(429), 'qdrant_overloaded', true],
    [apiError(503), 'qdrant_overloaded', true],
    [apiError(500), 'qdrant_server_error', true],
    [new QdrantClientTimeoutError('aborted'), 'qdrant_timeout', true],
    [new QdrantClientResourceExhaustedError('slow down', '2'), 'qdrant_overloaded', true],
    [
      new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
      'qdrant_unavailable',
      true,
    ],
    [
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      }),
      'qdrant_unavailable',
      true,
    ],
    [Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }), 'qdrant_timeout', true],
  ])('%s → %s (retriable %s), and the sink runtime agrees', (e, code, retriable) => {
    const mapped = toQdrantError(e, 'qdrant c upsert');
    expect(mapped).toMatchObject({ name: 'QdrantIndexError', code, retriable });
    expect(mapped.cause).toBe(e);
    expect(isRetriable(mapped)).toBe(retriable);
  });

  it("keeps the server's reason in the message", () => {
    expect(toQdrantError(apiError(400, 'Wrong input: bad filter'), 'qdrant c search').message).toBe(
      'qdrant c search: Qdrant answered 400: Wrong input: bad filter',
    );
  });
});

describe('createQdrantVectorIndex without a server', () => {
  // Nothing listens on port 9 (discard): a request would fail as unavailable, not as below.
  const index = createQdrantVectorIndex({
    url: 'http://127.0.0.1:9',
    collection: 'c',
    dim: 4,
    timeoutMs: 500,
  });

  it('refuses bad vectors before any request, as the in-process index does', async () => {
    await expect(
      index.upsert([{ id: 'a', vector: [1, 2, 3], payload: payloadOf(1) }]),
    ).rejects.toBeInstanceOf(VectorIndexError);
    await expect(index.search([1, 0, 0, Number.POSITIVE_INFINITY], 3)).rejects.toMatchObject({
      code: 'vector_not_finite',
    });
    await expect(index.search([1, 0, 0, 0], -1)).rejects.toMatchObject({
      code: 'vector_index_invalid_argument',
    });
    expect(await index.search([1, 0, 0, 0], 0)).toEqual([]);
    await index.delete([]);
    await index.upsert([]);
    expect(index.backend).toBe('qdrant');
  });

  it('reports an unreachable Qdrant as retriable', async () => {
    await expect(index.size()).rejects.toMatchObject({ code: 'qdrant_unavailable', retriable: true });
  });
});
