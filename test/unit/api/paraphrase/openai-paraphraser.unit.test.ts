import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../../api/errors.ts';
import { createOpenAiParaphraser, parseCandidates } from '../../../../api/paraphrase/openai-paraphraser.ts';

/** A loopback stand-in for an OpenAI-compatible endpoint (LM Studio, vLLM), speaking its wire format. */
function fakeLlm() {
  const calls: { model: string; messages: { role: string; content: string }[]; auth: string | null }[] = [];
  let mode: 'json' | 'lines' | 'slow' | 'error' = 'json';
  const app = new Hono();
  app.post('/v1/chat/completions', async (c) => {
    const body = (await c.req.json()) as { model: string; messages: { role: string; content: string }[] };
    calls.push({ ...body, auth: c.req.header('authorization') ?? null });
    if (mode === 'error') return c.json({ error: { message: 'overloaded', type: 'server_error' } }, 500);
    if (mode === 'slow') await new Promise((r) => setTimeout(r, 2000));
    const content =
      mode === 'json'
        ? '["Rewrite one.", "Rewrite two.", "Rewrite three."]'
        : '1. First\n2. Second\n3. Third';
    return c.json({
      id: 'cmpl-1',
      object: 'chat.completion',
      created: 0,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
    });
  });
  return { app, calls, setMode: (m: typeof mode) => (mode = m) };
}

describe('OpenAI-compatible paraphraser', () => {
  const llm = fakeLlm();
  let server: ReturnType<typeof serve>;
  let baseURL = '';
  beforeAll(async () => {
    server = serve({ fetch: llm.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => {
    server.close();
  });

  it('asks for the option, parses the candidates and counts tokens', async () => {
    llm.setMode('json');
    const p = createOpenAiParaphraser({ baseURL, apiKey: 'sk-test', model: 'local-model', maxRetries: 0 });
    const out = await p.paraphrase({
      text: 'Send it now.',
      language: 'en',
      request: { category: 'email', intensity: 'strong' },
    });
    expect(out.candidates).toEqual(['Rewrite one.', 'Rewrite two.', 'Rewrite three.']);
    expect(out).toMatchObject({
      model: 'local-model',
      promptTokens: 42,
      completionTokens: 17,
      provider: new URL(baseURL).host,
    });
    const call = llm.calls.at(-1)!;
    expect(call.auth).toBe('Bearer sk-test');
    expect(call.messages.at(-1)!.content).toMatch(/"email" writing, with strong intensity/);
  });

  it('reads line-per-candidate replies and style requests', async () => {
    llm.setMode('lines');
    const p = createOpenAiParaphraser({ baseURL, apiKey: 'k', model: 'm', maxRetries: 0 });
    const out = await p.paraphrase({
      text: '보내주세요.',
      language: 'ko',
      request: { style_request: '정중하게' },
    });
    expect(out.candidates).toEqual(['First', 'Second', 'Third']);
    expect(llm.calls.at(-1)!.messages.at(-1)!.content).toMatch(/"정중하게"/);
  });

  it('turns a timeout into a retriable 504 and a server error into a 502', async () => {
    llm.setMode('slow');
    const slow = createOpenAiParaphraser({ baseURL, apiKey: 'k', model: 'm', maxRetries: 0, timeoutMs: 200 });
    const err = await slow
      .paraphrase({ text: 'x', language: 'en', request: { style_request: 'y' } })
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'llm_timeout', status: 504, retriable: true });
    llm.setMode('error');
    const failing = createOpenAiParaphraser({ baseURL, apiKey: 'k', model: 'm', maxRetries: 1 });
    const before = llm.calls.length;
    const err2 = await failing
      .paraphrase({ text: 'x', language: 'en', request: { style_request: 'y' } })
      .catch((e) => e);
    expect(err2).toMatchObject({ code: 'llm_failed', status: 502 });
    expect(llm.calls.length - before).toBe(2); // one retry
  });

  it('parses fenced JSON and caps the count', () => {
    expect(parseCandidates('```json\n["a","b","c","d"]\n```', 3)).toEqual(['a', 'b', 'c']);
    expect(parseCandidates('- a\n- b', 3)).toEqual(['a', 'b']);
    // What a small local model writes: repeats, "#1." numbering, quoted lines.
    expect(parseCandidates('Move it.\n#1. move it.\n2) Shift it\n"Push it",', 3)).toEqual([
      'Move it.',
      'Shift it',
      'Push it',
    ]);
    expect(parseCandidates('["x", "x", "y"]', 3)).toEqual(['x', 'y']);
  });
});
