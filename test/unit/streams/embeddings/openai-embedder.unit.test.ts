import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createCachingEmbedder } from '../../../../streams/embeddings/caching-embedder.ts';
import { EmbeddingError } from '../../../../streams/embeddings/embedder.ts';
import { embedderFromEnv } from '../../../../streams/embeddings/embedder-from-env.ts';
import { hashEmbed, OFFLINE_EMBEDDER_MODEL } from '../../../../streams/embeddings/hashing-embedder.ts';
import {
  createOpenAiEmbedder,
  type EmbeddingsClient,
} from '../../../../streams/embeddings/openai-embedder.ts';

const DIM = 8;
const unit = (seed: number) => {
  const v = Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7 + i));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** An `embeddings` twin: records each batch; `fail` decides per call whether to throw. */
function fakeClient(fail: (call: number) => Error | null = () => null, dim = DIM) {
  const batches: string[][] = [];
  const client: EmbeddingsClient = {
    async create(body) {
      batches.push(body.input);
      const err = fail(batches.length);
      if (err) throw err;
      // Out of order on purpose: the adapter sorts by index.
      return {
        data: body.input
          .map((t, index) => ({
            index,
            embedding: unit(t.length)
              .slice(0, dim)
              .concat(dim > DIM ? [0] : []),
          }))
          .reverse(),
      };
    },
  };
  return { client, batches };
}

function fakeMetrics() {
  const counts = new Map<string, number>();
  return {
    counts,
    inc(name: string, _help: string, labels: Record<string, string> = {}, by = 1) {
      const k = `${name}${JSON.stringify(labels)}`;
      counts.set(k, (counts.get(k) ?? 0) + by);
    },
  };
}

describe('OpenAI-compatible embedder', () => {
  it('embeds in batches of batchSize, in input order, labelled with the model', async () => {
    const { client, batches } = fakeClient();
    const e = createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM, batchSize: 2 });
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];
    const r = await e.embedLabelled(texts);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(r.vectors.map((v) => [...v][0])).toEqual(texts.map((t) => Math.fround(unit(t.length)[0]!)));
    expect(r).toMatchObject({ model: 'm', offline: false, fallback: false });
    expect(e.model).toBe('m');
    expect(e.offline).toBe(false);
  });

  it('decodes base64 little-endian float32 when a client passes it through', async () => {
    const v = Float32Array.from(unit(3));
    const b64 = Buffer.from(v.buffer).toString('base64');
    const client: EmbeddingsClient = { create: async () => ({ data: [{ index: 0, embedding: b64 }] }) };
    const [got] = await createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM }).embed(['x']);
    expect([...got!]).toEqual([...v]);
  });

  it('falls back to the hashing embedder on a timeout, says so, counts it, and retries after the cool-down', async () => {
    let now = 1_000;
    const { client, batches } = fakeClient((call) =>
      call === 1 ? new OpenAI.APIConnectionTimeoutError({ message: 'timed out' }) : null,
    );
    const metrics = fakeMetrics();
    const told: string[] = [];
    const e = createOpenAiEmbedder({
      client,
      apiKey: 'k',
      model: 'm',
      dim: DIM,
      retryAfterMs: 500,
      metrics,
      clock: () => now,
      onFallback: ({ reason }) => told.push(reason),
    });
    const first = await e.embedLabelled(['hello world', 'x']);
    expect(first.fallback).toBe(true);
    expect(first.model).toBe(`${OFFLINE_EMBEDDER_MODEL} (fallback from m)`);
    expect([...first.vectors[0]!]).toEqual([...hashEmbed('hello world', DIM)]);
    expect(e.model).toBe(`${OFFLINE_EMBEDDER_MODEL} (fallback from m)`);
    expect(e.offline).toBe(true);
    // Cooling down: straight to the fallback, no request.
    now += 100;
    expect((await e.embedLabelled(['y'])).fallback).toBe(true);
    expect(batches.length).toBe(1);
    now += 500;
    const again = await e.embedLabelled(['y']);
    expect(again).toMatchObject({ fallback: false, model: 'm' });
    expect(e.offline).toBe(false);
    expect(told).toEqual(['timeout']);
    expect(metrics.counts.get('embeddings_fallback_texts_total{"model":"m","reason":"timeout"}')).toBe(2);
    expect(metrics.counts.get('embeddings_fallback_texts_total{"model":"m","reason":"cooling_down"}')).toBe(
      1,
    );
    expect(metrics.counts.get('embeddings_requests_total{"model":"m","outcome":"timeout"}')).toBe(1);
    expect(metrics.counts.get('embeddings_requests_total{"model":"m","outcome":"ok"}')).toBe(1);
  });

  it('falls back when the model gives another dimension than EMBEDDING_DIM', async () => {
    const { client } = fakeClient(() => null, DIM + 1);
    const told: string[] = [];
    const e = createOpenAiEmbedder({
      client,
      apiKey: 'k',
      model: 'm',
      dim: DIM,
      onFallback: (x) => told.push(x.reason),
    });
    const r = await e.embedLabelled(['a']);
    expect(r.fallback).toBe(true);
    expect(r.vectors[0]!.length).toBe(DIM);
    expect(told).toEqual(['dim_mismatch']);
  });

  it('without a fallback throws a retriable EmbeddingError with the cause', async () => {
    const boom = new Error('connection refused');
    const { client } = fakeClient(() => boom);
    const e = createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM, fallback: null });
    const err = await e.embed(['a']).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EmbeddingError);
    expect(err).toMatchObject({ code: 'embeddings_failed', retriable: true, cause: boom });
  });

  it('refuses a fallback of another dimension', () => {
    const { client } = fakeClient();
    expect(() =>
      createOpenAiEmbedder({
        client,
        apiKey: 'k',
        model: 'm',
        dim: DIM,
        fallback: { model: 'f', dim: 4, offline: true, embed: async () => [] },
      }),
    ).toThrow(/4 dimensions/);
  });
});

describe('caching embedder', () => {
  it('asks the model once per text and keeps the order', async () => {
    const { client, batches } = fakeClient();
    const e = createCachingEmbedder(createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM }));
    const a = await e.embed(['one', 'two', 'one']);
    const b = await e.embed(['two', 'three']);
    expect(batches).toEqual([['one', 'two'], ['three']]);
    expect([...b[0]!]).toEqual([...a[1]!]);
    expect([...a[2]!]).toEqual([...a[0]!]);
    expect(e.stats).toEqual({ hits: 2, misses: 3 });
  });

  it('shares an in-flight call between two callers (the profile and index sinks)', async () => {
    const { client, batches } = fakeClient();
    const e = createCachingEmbedder(createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM }));
    const [x, y] = await Promise.all([e.embed(['same text']), e.embed(['same text'])]);
    expect(batches.length).toBe(1);
    expect([...x[0]!]).toEqual([...y[0]!]);
  });

  it('never caches fallback vectors, and evicts the least recently used', async () => {
    let down = true;
    const { client, batches } = fakeClient(() => (down ? new Error('down') : null));
    const e = createCachingEmbedder(
      createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM, retryAfterMs: 0 }),
      { maxEntries: 2 },
    );
    expect((await e.embedLabelled!(['a'])).fallback).toBe(true);
    down = false;
    expect((await e.embedLabelled!(['a'])).fallback).toBe(false);
    await e.embed(['b']);
    await e.embed(['a']); // hit: a is now the most recent
    await e.embed(['c']); // evicts b
    const before = batches.length;
    await e.embed(['a', 'c']);
    expect(batches.length).toBe(before);
    await e.embed(['b']);
    expect(batches.length).toBe(before + 1);
  });

  it('passes a failure through to every waiting caller', async () => {
    const { client } = fakeClient(() => new Error('down'));
    const e = createCachingEmbedder(
      createOpenAiEmbedder({ client, apiKey: 'k', model: 'm', dim: DIM, fallback: null }),
    );
    const r = await Promise.allSettled([e.embed(['t']), e.embed(['t'])]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('embedderFromEnv', () => {
  it('is the offline hashing embedder without EMBEDDINGS_API_BASE', () => {
    const e = embedderFromEnv({}, { dim: 384 });
    expect(e).toMatchObject({ model: OFFLINE_EMBEDDER_MODEL, offline: true, dim: 384 });
  });

  it('is the cached OpenAI-compatible embedder with it', () => {
    const e = embedderFromEnv(
      { EMBEDDINGS_API_BASE: 'http://127.0.0.1:1/v1', EMBEDDINGS_MODEL: 'all-MiniLM-L6-v2' },
      { dim: 384 },
    );
    expect(e).toMatchObject({ model: 'all-MiniLM-L6-v2', offline: false, dim: 384 });
    expect('stats' in e).toBe(true);
  });

  it('lists bad variables', () => {
    expect(() =>
      embedderFromEnv({ EMBEDDINGS_API_BASE: 'nope', EMBEDDINGS_BATCH_SIZE: '0' }, { dim: 8 }),
    ).toThrow(/EMBEDDINGS_API_BASE[\s\S]*EMBEDDINGS_BATCH_SIZE/);
  });
});
