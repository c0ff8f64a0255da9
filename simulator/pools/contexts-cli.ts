/**
 * `npm run contexts -- index [--file CSV] [--collection NAME] [--batch N] [--recreate]`
 * `npm run contexts -- optimize [--collection NAME]`
 *
 * index: embeds the context pool E (default simulator/data/contexts.csv) with the offline hashing
 * embedder and upserts it into its own Qdrant collection (`<TOPIC_NAMESPACE>_contexts`), with
 * progress; idempotent (point id = context id). --recreate drops the collection first, so contexts
 * removed from the file go too.
 * optimize: the wheel's scheduled optimisation step on that collection (safe to run twice).
 *
 * Env (or .services.env): QDRANT_URL (required), QDRANT_API_KEY, TOPIC_NAMESPACE (sentencify),
 * QDRANT_TIMEOUT_MS (10000).
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { QdrantClient } from '@qdrant/js-client-rest';
import { z } from 'zod';
import { createQdrantVectorIndex } from '../../api/vector/qdrant-vector-index.ts';
import { environment } from '../../common/environment.ts';
import { envInt } from '../../common/service-env.ts';
import { createHashingEmbedder } from '../../streams/embeddings/hashing-embedder.ts';
import { DEFAULT_CONTEXTS_PATH, loadContextPool } from './contexts.ts';
import { indexContextPool } from './index-contexts.ts';

const USAGE =
  'usage: npm run contexts -- index [--file CSV] [--collection NAME] [--batch N] [--recreate] | optimize [--collection NAME]';

const envSchema = z.object({
  QDRANT_URL: z
    .string({ error: 'QDRANT_URL is required, e.g. http://127.0.0.1:16333 (npm run services:up writes it)' })
    .regex(/^https?:\/\//, 'an http(s) URL'),
  QDRANT_API_KEY: z
    .string()
    .optional()
    .transform((s) => (s ? s : undefined)),
  TOPIC_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('sentencify'),
  QDRANT_TIMEOUT_MS: envInt(10_000, 1),
});

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    file: { type: 'string', default: DEFAULT_CONTEXTS_PATH },
    collection: { type: 'string' },
    batch: { type: 'string', default: '200' },
    recreate: { type: 'boolean', default: false },
  },
});
const command = positionals[0];
if (positionals.length !== 1 || (command !== 'index' && command !== 'optimize')) {
  console.error(USAGE);
  process.exit(2);
}
const raw = environment();
const parsed = envSchema.safeParse({ ...raw, TOPIC_NAMESPACE: raw.TOPIC_NAMESPACE || undefined });
if (!parsed.success) {
  console.error(
    `contexts: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
  );
  process.exit(2);
}
const env = Object.freeze(parsed.data);
const batch = Number(values.batch);
if (!Number.isInteger(batch) || batch < 1) {
  console.error(`--batch must be a positive integer, got "${values.batch}"`);
  process.exit(2);
}
const collection = values.collection ?? `${env.TOPIC_NAMESPACE}_contexts`;
const embedder = createHashingEmbedder();
const index = createQdrantVectorIndex({
  url: env.QDRANT_URL,
  ...(env.QDRANT_API_KEY ? { apiKey: env.QDRANT_API_KEY } : {}),
  collection,
  dim: embedder.dim,
  timeoutMs: env.QDRANT_TIMEOUT_MS,
});
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);

try {
  if (command === 'optimize') {
    const r = await index.optimizeIndex();
    console.log(
      `contexts: optimised ${collection}: ${r.points} points, ${r.indexedVectors} in the HNSW graph, ${r.segments} segment(s), ${secs()} s`,
    );
  } else {
    const samples = loadContextPool(values.file);
    if (values.recreate) {
      const client = new QdrantClient({
        url: env.QDRANT_URL,
        checkCompatibility: false,
        ...(env.QDRANT_API_KEY ? { apiKey: env.QDRANT_API_KEY } : {}),
      });
      await client.deleteCollection(collection);
      console.error(`contexts: dropped ${collection}`);
    }
    await index.ensure();
    // The file's modification time as every point's ts: re-running on the same file rewrites
    // identical points.
    const ts = statSync(values.file).mtime.toISOString();
    let last = -1;
    const r = await indexContextPool(samples, {
      embedder,
      index,
      batchSize: batch,
      ts,
      onProgress: (done, total) => {
        const pct = total ? Math.floor((done / total) * 10) : 10;
        if (pct !== last || done === total) {
          last = pct;
          console.error(`  contexts ${done}/${total} embedded and upserted`);
        }
      },
    });
    console.log(
      `contexts: ${r.upserted} contexts of ${values.file} in ${collection} (${embedder.model}, ${embedder.dim} dims); the collection holds ${r.size} points; ${secs()} s`,
    );
  }
} catch (e) {
  const err = e as { code?: string; retriable?: boolean; message?: string };
  console.error(
    `contexts: ${err.message ?? String(e)}${err.code ? ` [${err.code}, retriable: ${err.retriable}]` : ''}`,
  );
  process.exit(1);
}
