import OpenAI from 'openai';
import { describe, expect, inject, it } from 'vitest';
import { createAbRouter } from '../../api/paraphrase/ab-router.ts';
import { createOfflineParaphraser } from '../../api/paraphrase/offline-paraphraser.ts';
import { createOpenAiParaphraser } from '../../api/paraphrase/openai-paraphraser.ts';
import type { ParaphraseEvent } from '../../schemas/index.ts';
import { cosine } from '../../streams/embeddings/hashing-embedder.ts';
import { createOpenAiEmbedder } from '../../streams/embeddings/openai-embedder.ts';
import { apiHarness } from '../helpers/api-harness.ts';
import { storeUrl } from './stores.ts';

// The local models of `npm run services:up -- --with-models`: skipped without them, failed under CI=true.
const svc = inject('services');
const embeddingsBase = storeUrl(svc, 'EMBEDDINGS_API_BASE');
const llmBase = storeUrl(svc, 'LLM_API_BASE');
const EMBEDDINGS_MODEL = 'all-MiniLM-L6-v2';
const LLM_MODEL = 'SmolLM2-135M-Instruct';
// A 135M model on a shared CPU: generous per-call bounds, short answers.
const LLM_TIMEOUT_MS = 120_000;
const LLM_MAX_TOKENS = 96;

const SENTENCES = [
  'The weather is lovely today.',
  "It's so sunny outside!",
  'He drove to the stadium.',
  '회의 일정을 다음 주 화요일로 변경하고자 합니다.',
];

const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));

describe.skipIf(!embeddingsBase)('local all-MiniLM-L6-v2 /v1/embeddings', () => {
  const client = new OpenAI({ baseURL: embeddingsBase ?? undefined, apiKey: 'not-needed', maxRetries: 0 });

  it('answers the Node openai client with its default (base64) encoding: 384 dims, unit length', async () => {
    const res = await client.embeddings.create({ model: EMBEDDINGS_MODEL, input: SENTENCES });
    expect(res.model).toBe(EMBEDDINGS_MODEL);
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    expect(res.usage.prompt_tokens).toBeGreaterThan(SENTENCES.length);
    for (const d of res.data) {
      expect(d.embedding).toHaveLength(384);
      expect(norm(d.embedding)).toBeCloseTo(1, 5);
    }
  });

  it('gives the same vectors as float, and sentence-transformers’ similarities', async () => {
    const b64 = await client.embeddings.create({ model: EMBEDDINGS_MODEL, input: SENTENCES.slice(0, 3) });
    const float = await client.embeddings.create({
      model: EMBEDDINGS_MODEL,
      input: SENTENCES.slice(0, 3),
      encoding_format: 'float',
    });
    const [a, b, c] = float.data.map((d) => d.embedding);
    for (let i = 0; i < 3; i++) {
      const x = b64.data[i]!.embedding;
      const y = float.data[i]!.embedding;
      expect(Math.max(...x.map((v, j) => Math.abs(v - y[j]!)))).toBeLessThan(1e-6);
    }
    // Similar sentences closer than unrelated ones; the figures sentence-transformers documents
    // for this model and these sentences are 0.6660, 0.1046 and 0.1411.
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.3);
    expect(cosine(a!, b!)).toBeCloseTo(0.666, 2);
    expect(cosine(a!, c!)).toBeCloseTo(0.1046, 2);
    expect(cosine(b!, c!)).toBeCloseTo(0.1411, 2);
  });

  it('is what the OpenAI embedder adapter embeds with: batched, not the fallback, labelled with the model', async () => {
    const counts: string[] = [];
    const e = createOpenAiEmbedder({
      baseURL: embeddingsBase!,
      apiKey: 'not-needed',
      model: EMBEDDINGS_MODEL,
      dim: 384,
      batchSize: 2,
      metrics: { inc: (name, _h, labels) => counts.push(`${name}:${JSON.stringify(labels)}`) },
    });
    const r = await e.embedLabelled([...SENTENCES, 'Thank you for reaching out about your order.']);
    expect(r).toMatchObject({ fallback: false, offline: false, model: EMBEDDINGS_MODEL });
    expect(r.vectors).toHaveLength(5);
    expect(counts.filter((c) => c.includes('"outcome":"ok"'))).toHaveLength(3);
    expect(counts.some((c) => c.startsWith('embeddings_fallback'))).toBe(false);
    const direct = await client.embeddings.create({ model: EMBEDDINGS_MODEL, input: [SENTENCES[3]!] });
    expect(cosine(r.vectors[3]!, direct.data[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('refuses what it does not serve with a 400 the client reports', async () => {
    const err = await client.embeddings
      .create({ model: EMBEDDINGS_MODEL, input: 'x', dimensions: 128 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe.skipIf(!llmBase)('local SmolLM2-135M-Instruct /v1/chat/completions', () => {
  const llm = () =>
    createOpenAiParaphraser({
      baseURL: llmBase!,
      apiKey: 'not-needed',
      model: LLM_MODEL,
      timeoutMs: LLM_TIMEOUT_MS,
      maxRetries: 0,
      maxTokens: LLM_MAX_TOKENS,
    });

  it('answers the openai client with a completion and its token usage', async () => {
    const client = new OpenAI({
      baseURL: llmBase!,
      apiKey: 'not-needed',
      timeout: LLM_TIMEOUT_MS,
      maxRetries: 0,
    });
    const res = await client.chat.completions.create({
      model: LLM_MODEL,
      max_tokens: 16,
      temperature: 0,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    expect(res.model).toBe(LLM_MODEL);
    expect(res.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(res.usage!.prompt_tokens).toBeGreaterThan(3);
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(16);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('the OpenAI paraphraser gets parsed, distinct candidates and token counts from it', async () => {
    const out = await llm().paraphrase({
      text: 'The meeting moved to Friday.',
      language: 'en',
      request: { category: 'email', intensity: 'moderate' },
      n: 3,
    });
    expect(out.provider).toBe(new URL(llmBase!).host);
    expect(out.model).toBe(LLM_MODEL);
    expect(out.candidates.length).toBeGreaterThanOrEqual(1);
    expect(out.candidates.length).toBeLessThanOrEqual(3);
    expect(new Set(out.candidates.map((c) => c.toLowerCase())).size).toBe(out.candidates.length);
    for (const c of out.candidates) expect(c.trim().length).toBeGreaterThan(0);
    expect(out.promptTokens).toBeGreaterThan(20);
    expect(out.completionTokens).toBeGreaterThan(0);
    expect(out.completionTokens).toBeLessThanOrEqual(LLM_MAX_TOKENS);
  });

  it('A/B through the API: variant A offline, variant B this endpoint, sticky per user, usage on B events', async () => {
    const h = await apiHarness({ b: llm() });
    // The harness's router: the same salt and share, to pick two users, one in each variant.
    const router = createAbRouter({ a: createOfflineParaphraser(), b: llm(), salt: 'embedded' });
    const users = Array.from({ length: 40 }, (_, i) => `ab-user-${i}`);
    const inA = users.find((u) => router.variantOf(u) === 'A')!;
    const inB = users.find((u) => router.variantOf(u) === 'B')!;
    const seen: Record<string, Record<string, unknown>> = {};
    for (const user of [inA, inB, inB]) {
      const text = 'We will ship it next week.';
      const rec = await h.post('/recommend', { user_id: user, text });
      const para = await h.post('/paraphrase', {
        recommend_session_id: rec.body.recommend_session_id,
        user_id: user,
        text,
        category: 'email',
        intensity: 'strong',
      });
      expect(para.status).toBe(200);
      expect(para.body.variant).toBe(rec.body.variant);
      seen[`${user}:${String(para.body.variant)}`] = para.body;
    }
    expect(Object.keys(seen).sort()).toEqual([`${inA}:A`, `${inB}:B`].sort());
    expect(seen[`${inA}:A`]).toMatchObject({ provider: 'offline', offline: true });
    expect(seen[`${inB}:B`]).toMatchObject({ provider: new URL(llmBase!).host, offline: false });
    expect((seen[`${inB}:B`]!.candidates as string[]).length).toBeGreaterThan(0);
    const bs = h.events(h.topics.paraphrase) as ParaphraseEvent[];
    expect(bs.map((b) => b.llm.variant)).toEqual(['A', 'B', 'B']);
    expect(bs[0]!.llm).toMatchObject({ provider: 'offline', model: 'offline-paraphraser-v1' });
    for (const b of bs.slice(1)) {
      expect(b.llm).toMatchObject({ provider: new URL(llmBase!).host, model: LLM_MODEL });
      expect(b.llm.prompt_tokens).toBeGreaterThan(20);
      expect(b.llm.completion_tokens).toBeGreaterThan(0);
    }
  });
});
