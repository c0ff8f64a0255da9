import { readFileSync } from 'node:fs';
import { Client, errors, type estypes } from '@elastic/elasticsearch';
import type { GoldenWrite } from '../sinks/golden-document.ts';
import { SinkError } from '../sinks/sink.ts';
import {
  DEFAULT_GOLDEN_PREFIX,
  type GoldenStore,
  type GoldenWriteResult,
  goldenIndex,
  goldenTemplate,
  goldenTemplateName,
  type StoredGolden,
} from './golden-store.ts';

/** How to reach a cluster when no client is passed (what the composition root reads from ES_*). */
export interface EsConnection {
  /** `ES_URL`, e.g. `http://127.0.0.1:19200` or `https://es.example:9200`. */
  readonly node: string;
  /** `ES_API_KEY` (the base64 `id:key` Kibana shows). */
  readonly apiKey?: string;
  /** `ES_USERNAME` / `ES_PASSWORD`. */
  readonly username?: string;
  readonly password?: string;
  /** `ES_CA_FILE`: PEM of the CA that signed the cluster's certificate. */
  readonly caFile?: string;
  readonly requestTimeoutMs?: number;
}

export interface EsGoldenStoreOptions {
  /** `ES_INDEX_PREFIX`; indices are `<prefix>YYYY.MM.DD` (default `sentencify-golden-`). */
  readonly prefix?: string;
  /** Bulk `refresh` (default false: searchable within the index's 1 s refresh interval). */
  readonly refresh?: boolean | 'wait_for';
  /** Retries of the items ES pushed back (429, 5xx) inside one write, before throwing (default 3). */
  readonly itemRetries?: number;
  /** First pause between item retries in ms, doubled each time (default 100). */
  readonly itemRetryBaseMs?: number;
  /** Bulks in flight per write (default 1: the golden sink already overlaps two writes of a batch); parts are at least 100 documents. */
  readonly concurrency?: number;
  /** `close()` closes the client too (default false: whoever created the client closes it). */
  readonly closeClient?: boolean;
}

/** A client from connection settings: API key or basic auth, and a CA file for TLS. */
export function createEsClient(c: EsConnection): Client {
  return new Client({
    node: c.node,
    ...(c.apiKey
      ? { auth: { apiKey: c.apiKey } }
      : c.username
        ? { auth: { username: c.username, password: c.password ?? '' } }
        : {}),
    ...(c.caFile ? { tls: { ca: readFileSync(c.caFile, 'utf8') } } : {}),
    requestTimeout: c.requestTimeoutMs ?? 30_000,
    // The sink runtime owns retries; the client retrying on its own would double them.
    maxRetries: 0,
  });
}

/** Item errors no retry can fix: the document itself is wrong for the mapping (or the request is). */
function itemRetriable(status: number, type: string | undefined): boolean {
  return status === 429 || status >= 500 || type === 'es_rejected_execution_exception';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client error as a SinkError: no answer, 429 and 5xx are retriable; other 4xx are not. */
export function toSinkError(err: unknown, what: string): SinkError {
  if (err instanceof SinkError) return err;
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const retriable = status === 429 || status >= 500 || status === 0;
    return new SinkError(`es_${status}`, `${what}: Elasticsearch answered ${status}: ${err.message}`, {
      retriable,
      cause: err,
    });
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) {
    return new SinkError('es_unreachable', `${what}: Elasticsearch unreachable: ${err.message}`, {
      retriable: true,
      cause: err,
    });
  }
  return new SinkError('es_error', `${what}: ${(err as Error)?.message ?? String(err)}`, {
    retriable: true,
    cause: err,
  });
}

/**
 * The golden store on Elasticsearch through `@elastic/elasticsearch` v8: daily indices by the
 * session's first event time, `_id` = recommend_session_id, `version` = revision with
 * `version_type: external`, so a replay or an older revision never overwrites a newer one (those
 * 409s are counted `stale`). One bulk per write; items ES pushed back (429, 5xx,
 * es_rejected_execution) are retried alone a few times, then the write throws a retriable
 * SinkError (the runtime backs off and applies the batch again: what was written comes back as
 * stale). Documents the mapping refuses come back as `rejected` with ES's reason.
 *
 * @example
 * const store = createEsGoldenStore(createEsClient({ node: 'http://127.0.0.1:19200' }));
 * await store.ensureTemplate();
 * const sink = createGoldenSink({ store, topic: topics.trainingExamples });
 */
export function createEsGoldenStore(client: Client, opts: EsGoldenStoreOptions = {}): GoldenStore {
  const prefix = opts.prefix ?? DEFAULT_GOLDEN_PREFIX;
  const refresh = opts.refresh ?? false;
  const itemRetries = opts.itemRetries ?? 3;
  const baseMs = opts.itemRetryBaseMs ?? 100;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const minBulk = 100;
  const pattern = `${prefix}*`;

  /**
   * Copies an earlier revision left in another day's index (the session's events span midnight
   * and a first revision lacked the earliest event). mget is realtime and, unlike a delete,
   * never creates the index it looks in.
   */
  async function movedCopies(writes: readonly GoldenWrite[]) {
    const docs = writes.flatMap((w) =>
      w.otherDays.map((d) => ({ _index: goldenIndex(prefix, d), _id: w.id })),
    );
    if (docs.length === 0) return [];
    const versionOf = new Map(writes.map((w) => [w.id, w.version]));
    const res = await client.mget<unknown>({ docs, _source: false });
    return res.docs.flatMap((d) =>
      'found' in d && d.found && (d._version ?? 0) < (versionOf.get(d._id) ?? 0)
        ? [{ index: d._index, id: d._id, version: versionOf.get(d._id)! }]
        : [],
    );
  }

  return {
    prefix,
    async ensureTemplate() {
      const t = goldenTemplate(prefix);
      try {
        await client.indices.putIndexTemplate({
          name: t.name,
          index_patterns: t.index_patterns,
          priority: t.priority,
          template: t.template as estypes.IndicesPutIndexTemplateRequest['template'],
          _meta: t._meta,
        });
      } catch (err) {
        throw toSinkError(err, `index template ${t.name}`);
      }
    },
    async write(writes): Promise<GoldenWriteResult> {
      if (writes.length === 0) return { written: 0, stale: 0, rejected: [] };
      let written = 0;
      let stale = 0;
      const rejected: { at: number; reason: string }[] = [];
      let pending = writes.map((_, i) => i);
      let lastPushback = '';
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) {
          if (attempt > itemRetries) {
            throw new SinkError(
              'es_pushback',
              `Elasticsearch pushed back on ${pending.length} of ${writes.length} documents after ${itemRetries} retries: ${lastPushback}`,
              { retriable: true },
            );
          }
          await sleep(baseMs * 2 ** (attempt - 1));
        }
        // Up to `concurrency` bulks in flight (sessions are unique within a write, so their order
        // does not matter): Elasticsearch indexes one while the next is on the wire.
        const per = Math.max(minBulk, Math.ceil(pending.length / concurrency));
        const chunks: number[][] = [];
        for (let i = 0; i < pending.length; i += per) chunks.push(pending.slice(i, i + per));
        let answers: estypes.BulkResponse[];
        try {
          answers = await Promise.all(
            chunks.map((chunk) =>
              client.bulk({
                operations: chunk.flatMap((i) => {
                  const w = writes[i]!;
                  return [
                    {
                      index: {
                        _index: goldenIndex(prefix, w.day),
                        _id: w.id,
                        version: w.version,
                        version_type: 'external' as const,
                      },
                    },
                    w.doc,
                  ];
                }),
                refresh,
              }),
            ),
          );
        } catch (err) {
          throw toSinkError(err, 'bulk');
        }
        const again: number[] = [];
        for (const [c, res] of answers.entries()) {
          for (const [k, item] of res.items.entries()) {
            const at = chunks[c]![k]!;
            const r = item.index!;
            if (!r.error) written++;
            else if (r.status === 409) stale++;
            else if (itemRetriable(r.status, r.error.type)) {
              again.push(at);
              lastPushback = `${r.status} ${r.error.type}: ${r.error.reason ?? ''}`;
            } else {
              const cause = r.error.caused_by?.reason ? ` (${r.error.caused_by.reason})` : '';
              rejected.push({ at, reason: `${r.error.type}: ${r.error.reason ?? ''}${cause}` });
            }
          }
        }
        pending = again;
      }
      const moving = writes.filter((w) => w.otherDays.length > 0);
      if (moving.length > 0) {
        try {
          const copies = await movedCopies(moving);
          if (copies.length > 0) {
            await client.bulk({
              operations: copies.map((c) => ({
                delete: { _index: c.index, _id: c.id, version: c.version, version_type: 'external' as const },
              })),
              refresh,
            });
          }
        } catch (err) {
          throw toSinkError(err, 'removing an earlier revision from another day');
        }
      }
      rejected.sort((x, y) => x.at - y.at);
      return { written, stale, rejected };
    },
    async get(sessionId) {
      try {
        const res = await client.search<StoredGolden['doc']>({
          index: pattern,
          ignore_unavailable: true,
          allow_no_indices: true,
          version: true,
          query: { ids: { values: [sessionId] } },
          size: 100,
          sort: ['_index'],
        });
        return res.hits.hits.map((h) => ({ index: h._index, version: h._version ?? 0, doc: h._source! }));
      } catch (err) {
        throw toSinkError(err, 'get');
      }
    },
    async count() {
      const res = await client.count({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
      return res.count;
    },
    async refresh() {
      await client.indices.refresh({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
    },
    async eraseUser(userId) {
      // Search and bulk delete, page by page: the local node has no _delete_by_query
      // (docs/elasticsearch.md), and a search plus bulk works on every cluster alike. Refreshed
      // first so a document written within the refresh interval is found too; each page is
      // deleted with refresh so the next search no longer sees it.
      let removed = 0;
      try {
        await client.indices.refresh({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
        for (;;) {
          const res = await client.search({
            index: pattern,
            ignore_unavailable: true,
            allow_no_indices: true,
            query: { term: { user_id: userId } },
            _source: false,
            size: 1000,
          });
          const hits = res.hits.hits;
          if (hits.length === 0) return removed;
          const bulk = await client.bulk({
            operations: hits.map((h) => ({ delete: { _index: h._index, _id: h._id! } })),
            refresh: true,
          });
          for (const item of bulk.items) {
            const r = item.delete!;
            if (!r.error) removed++;
            else if (r.status !== 404)
              throw new SinkError(
                'es_erase',
                `erasure delete: ${r.status} ${r.error.type}: ${r.error.reason}`,
                {
                  retriable: true,
                },
              );
          }
        }
      } catch (err) {
        throw toSinkError(err, 'erasure');
      }
    },
    async drop() {
      await client.indices.delete({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
      await client.indices.deleteIndexTemplate({ name: goldenTemplateName(prefix) }, { ignore: [404] });
    },
    async close() {
      if (opts.closeClient) await client.close();
    },
  };
}
