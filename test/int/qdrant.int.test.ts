import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createQdrantVectorIndex, QdrantIndexError } from '../../api/vector/qdrant-vector-index.ts';
import { payloadOf, vectorIndexContract } from '../helpers/vector-index-contract.ts';
import { storeUrl } from './stores.ts';

const url = storeUrl(inject('services'), 'QDRANT_URL');
const ROOT = join(import.meta.dirname, '../..');
const run = `t${process.pid}_${Date.now().toString(36)}`;
let seq = 0;
const collectionName = () => `${run}_${seq++}`;

describe.skipIf(!url)('Qdrant adapter', () => {
  const client = new QdrantClient({ url: url!, checkCompatibility: false });

  it('talks to a server that reports a 1.17 version', async () => {
    const root = (await (await fetch(url!)).json()) as { version: string };
    expect(root.version).toMatch(/^1\.1[6-8]\./);
  });

  vectorIndexContract('qdrant', async (dim) => {
    const collection = collectionName();
    const index = createQdrantVectorIndex({ url: url!, collection, dim, timeoutMs: 10_000 });
    await index.ensure();
    return {
      index,
      settle: async () => {
        await index.optimizeIndex();
      },
      cleanup: async () => {
        await client.deleteCollection(collection);
      },
    };
  });

  it('creates the collection with cosine, the dimension and the payload indexes, and ensure() twice is fine', async () => {
    const collection = collectionName();
    const index = createQdrantVectorIndex({ url: url!, collection, dim: 12 });
    try {
      await index.ensure();
      await index.ensure();
      const info = await client.getCollection(collection);
      expect(info.config.params.vectors).toMatchObject({ size: 12, distance: 'Cosine' });
      expect(Object.keys(info.payload_schema).sort()).toEqual(['language', 'option_key', 'user_id']);
      // Points carry the original session id next to the UUID v5 id, and the ContextPayload fields.
      await index.upsert([{ id: 'rs-a', vector: new Float32Array(12).fill(1), payload: payloadOf(3) }]);
      const { points } = await client.scroll(collection, { with_payload: true });
      expect(points).toHaveLength(1);
      expect(points[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(points[0]!.payload).toMatchObject({
        recommend_session_id: 'rs-a',
        user_id: 'u3',
        language: 'en',
      });
      // The scheduled optimisation is safe to run twice.
      const first = await index.optimizeIndex();
      const second = await index.optimizeIndex();
      expect(first.points).toBe(1);
      expect(second.points).toBe(1);
    } finally {
      await client.deleteCollection(collection);
    }
  });

  it('refuses an existing collection of another dimension, naming both, without retry', async () => {
    const collection = collectionName();
    await createQdrantVectorIndex({ url: url!, collection, dim: 8 }).ensure();
    try {
      const err = await createQdrantVectorIndex({ url: url!, collection, dim: 16 })
        .ensure()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QdrantIndexError);
      expect(err).toMatchObject({ code: 'qdrant_dimension_mismatch', retriable: false });
      expect((err as Error).message).toMatch(/\b8\b.*\b16\b/);
    } finally {
      await client.deleteCollection(collection);
    }
  });

  it('recreates a collection dropped under a live writer (re-index), and deleting from none is a no-op', async () => {
    const collection = collectionName();
    const index = createQdrantVectorIndex({ url: url!, collection, dim: 4 });
    await index.ensure();
    await index.upsert([{ id: 'rs-1', vector: [1, 0, 0, 0], payload: payloadOf(1) }]);
    await client.deleteCollection(collection);
    try {
      await index.delete(['rs-1']);
      await expect(index.search([1, 0, 0, 0], 1)).rejects.toMatchObject({
        code: 'qdrant_collection_missing',
      });
      await index.upsert([{ id: 'rs-2', vector: [0, 1, 0, 0], payload: payloadOf(2) }]);
      expect(await index.size()).toBe(1);
      expect(Object.keys((await client.getCollection(collection)).payload_schema)).toContain('language');
    } finally {
      await client.deleteCollection(collection);
    }
  });

  it('maps a missing collection to a typed, non-retriable error', async () => {
    const index = createQdrantVectorIndex({ url: url!, collection: `${run}_missing`, dim: 4 });
    await expect(index.search([1, 0, 0, 0], 3)).rejects.toMatchObject({
      name: 'QdrantIndexError',
      code: 'qdrant_collection_missing',
      retriable: false,
      status: 404,
    });
  });
});

// Its own peer on its own port and data dir: stopping the shared one would break other tests.
const python = join(ROOT, '.services/qdrant/venv/bin/python');
describe.skipIf(!url || !existsSync(python))('Qdrant away', () => {
  const data = mkdtempSync(join(tmpdir(), 'qdrant-peer-'));
  let peer: ChildProcess | null = null;
  afterAll(() => {
    if (peer?.pid && peer.exitCode === null) process.kill(-peer.pid, 'SIGKILL');
    rmSync(data, { recursive: true, force: true });
  });

  async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
      });
    });
  }

  async function startPeer(port: number): Promise<ChildProcess> {
    const p = spawn(
      python,
      [join(ROOT, 'scripts/services/qdrant/server.py'), '--port', String(port), '--data', data],
      { detached: true, stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return p;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('own qdrant peer did not start in 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a hung peer: search rejects within the timeout, retriable; a stopped one too; after a restart it works with the data kept', async () => {
    const port = await freePort();
    peer = await startPeer(port);
    const index = createQdrantVectorIndex({
      url: `http://127.0.0.1:${port}`,
      collection: 'away',
      dim: 4,
      timeoutMs: 800,
    });
    await index.ensure();
    await index.upsert([
      { id: 'rs-1', vector: [1, 0, 0, 0], payload: payloadOf(1) },
      { id: 'rs-2', vector: [0, 1, 0, 0], payload: payloadOf(2) },
    ]);
    expect((await index.search([1, 0.1, 0, 0], 1))[0]!.id).toBe('rs-1');

    // Hung (accepts connections, never answers): the call's deadline ends it.
    process.kill(-peer.pid!, 'SIGSTOP');
    let t0 = Date.now();
    const hung = await index.search([1, 0, 0, 0], 1).catch((e: unknown) => e);
    const hungMs = Date.now() - t0;
    process.kill(-peer.pid!, 'SIGCONT');
    expect(hung).toMatchObject({ name: 'QdrantIndexError', code: 'qdrant_timeout', retriable: true });
    expect(hungMs).toBeGreaterThanOrEqual(700);
    expect(hungMs).toBeLessThan(2500);

    // Gone (kill -9): refused at once.
    process.kill(-peer.pid!, 'SIGKILL');
    await new Promise((r) => peer!.once('exit', r));
    t0 = Date.now();
    const gone = await index.search([1, 0, 0, 0], 1).catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'QdrantIndexError', code: 'qdrant_unavailable', retriable: true });
    expect(Date.now() - t0).toBeLessThan(2500);
    await expect(
      index.upsert([{ id: 'rs-3', vector: [0, 0, 1, 0], payload: payloadOf(3) }]),
    ).rejects.toMatchObject({
      retriable: true,
    });

    // Back on the same data dir: the acknowledged writes survived the kill (WAL), calls work again.
    peer = await startPeer(port);
    expect(await index.size()).toBe(2);
    expect((await index.search([0, 1, 0, 0], 1))[0]!.id).toBe('rs-2');
    await index.upsert([{ id: 'rs-3', vector: [0, 0, 1, 0], payload: payloadOf(3) }]);
    expect(await index.size()).toBe(3);
  });
});
