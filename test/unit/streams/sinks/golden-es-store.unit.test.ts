import { type Client, errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import {
  createEsClient,
  createEsGoldenStore,
  toSinkError,
} from '../../../../streams/stores/es-golden-store.ts';
import { sampleWrite } from '../../../helpers/golden-contract.ts';

type Op = { index: { _id: string; _index: string; version: number; version_type: string } };
type Item = { status: number; error?: { type: string; reason: string } };

/** A client whose bulk answers per item by `answer(id, attempt)`. */
function fakeClient(answer: (id: string, attempt: number) => Item) {
  const attempts = new Map<string, number>();
  const bulks: Op[][] = [];
  const client = {
    bulk: async ({ operations }: { operations: unknown[] }) => {
      const ops = operations.filter((_, i) => i % 2 === 0) as Op[];
      bulks.push(ops);
      return {
        errors: true,
        items: ops.map((op) => {
          const n = (attempts.get(op.index._id) ?? 0) + 1;
          attempts.set(op.index._id, n);
          return { index: { _index: op.index._index, _id: op.index._id, ...answer(op.index._id, n) } };
        }),
      };
    },
  };
  return { client: client as unknown as Client, bulks };
}

const ok: Item = { status: 201 };
const conflict: Item = {
  status: 409,
  error: { type: 'version_conflict_engine_exception', reason: 'current version [3] is higher' },
};
const busy: Item = {
  status: 429,
  error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' },
};
const strict: Item = {
  status: 400,
  error: {
    type: 'strict_dynamic_mapping_exception',
    reason: 'dynamic introduction of [x] within [_doc] is not allowed',
  },
};

describe('Elasticsearch golden store, per-item bulk handling', () => {
  it('writes with _id = session, version = revision, external, into the daily index', async () => {
    const { client, bulks } = fakeClient(() => ok);
    const store = createEsGoldenStore(client, { prefix: 'p-' });
    expect(await store.write([sampleWrite('s1', 4)])).toEqual({ written: 1, stale: 0, rejected: [] });
    expect(bulks[0]![0]!.index).toEqual({
      _index: 'p-2026.11.23',
      _id: 's1',
      version: 4,
      version_type: 'external',
    });
  });

  it('counts 409s as stale, returns mapping errors as rejected, retries only the pushed-back items', async () => {
    const { client, bulks } = fakeClient((id, n) =>
      id === 'old' ? conflict : id === 'bad' ? strict : id === 'busy' && n < 3 ? busy : ok,
    );
    const store = createEsGoldenStore(client, { itemRetryBaseMs: 1 });
    const res = await store.write(['ok', 'old', 'bad', 'busy'].map((id) => sampleWrite(id)));
    expect(res.written).toBe(2);
    expect(res.stale).toBe(1);
    expect(res.rejected).toEqual([
      { at: 2, reason: expect.stringMatching(/^strict_dynamic_mapping_exception: dynamic/) },
    ]);
    expect(bulks.map((b) => b.map((o) => o.index._id))).toEqual([
      ['ok', 'old', 'bad', 'busy'],
      ['busy'],
      ['busy'],
    ]);
  });

  it('throws a retriable SinkError when the push-back outlasts the item retries', async () => {
    const { client, bulks } = fakeClient((id) =>
      id === 'busy' ? { status: 503, error: { type: 'unavailable_shards_exception', reason: 'x' } } : ok,
    );
    const store = createEsGoldenStore(client, { itemRetries: 2, itemRetryBaseMs: 1 });
    await expect(store.write([sampleWrite('ok'), sampleWrite('busy')])).rejects.toMatchObject({
      name: 'SinkError',
      code: 'es_pushback',
      retriable: true,
    });
    expect(bulks).toHaveLength(3);
  });

  it('maps client errors: unreachable, 429 and 5xx retriable; other 4xx not', () => {
    const conn = new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:19200');
    expect(toSinkError(conn, 'bulk')).toMatchObject({ code: 'es_unreachable', retriable: true });
    const resp = (statusCode: number) =>
      new errors.ResponseError({
        statusCode,
        body: { error: { type: 'x' } },
        headers: {},
        warnings: null,
        meta: {} as never,
      });
    expect(toSinkError(resp(429), 'bulk').retriable).toBe(true);
    expect(toSinkError(resp(503), 'bulk').retriable).toBe(true);
    expect(toSinkError(resp(403), 'bulk')).toMatchObject({ code: 'es_403', retriable: false });
  });

  it('throws the connection error of a bulk as retriable', async () => {
    const client = {
      bulk: async () => {
        throw new errors.ConnectionError('connect ECONNREFUSED');
      },
    } as unknown as Client;
    await expect(createEsGoldenStore(client).write([sampleWrite('s')])).rejects.toMatchObject({
      retriable: true,
    });
  });

  it('a node that is not there (connection refused) is a retriable SinkError, for the runtime to back off on', async () => {
    const store = createEsGoldenStore(
      createEsClient({ node: 'http://127.0.0.1:1', requestTimeoutMs: 2000 }),
      {
        closeClient: true,
      },
    );
    await expect(store.write([sampleWrite('s')])).rejects.toMatchObject({
      name: 'SinkError',
      code: 'es_unreachable',
      retriable: true,
    });
    await expect(store.ensureTemplate()).rejects.toMatchObject({ retriable: true });
    await store.close();
  });
});
