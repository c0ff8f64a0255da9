import OpenAI from 'openai';
import { publicErrorKind } from '../../common/error-kind.ts';
import { UpstreamError } from '../errors.ts';
import type { ParaphraseInput, ParaphraseOutput, Paraphraser } from './paraphraser.ts';

export interface OpenAiParaphraserOptions {
  /** Any OpenAI-compatible base URL (OpenAI, LM Studio, vLLM, …), e.g. http://127.0.0.1:1234/v1. */
  readonly baseURL?: string;
  readonly apiKey: string;
  readonly model: string;
  /** Shown as `provider` in B events and metrics (default: "openai" or the base URL's host). */
  readonly provider?: string;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  /** Sent as max_tokens when set: bounds a small local model's ramble (and its time on a CPU). */
  readonly maxTokens?: number;
}

function prompt(input: ParaphraseInput, n: number): string {
  const r = input.request;
  const want =
    'category' in r
      ? `in the register of "${r.category}" writing, with ${r.intensity} intensity of change`
      : `following this request: "${r.style_request}"`;
  return [
    `Rewrite the sentence below ${want}.`,
    `Keep its language (${input.language}) and meaning.`,
    `Answer with a JSON array of exactly ${n} distinct rewrites and nothing else.`,
    '',
    input.text,
  ].join('\n');
}

/** The first n distinct candidates (a small model repeats itself). */
function distinct(xs: readonly string[], n: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const x of xs) {
    const k = x.toLowerCase();
    if (x.length === 0 || seen.has(k)) continue;
    seen.add(k);
    out.push(x);
    if (out.length >= n) break;
  }
  return out;
}

/** Pulls the candidates out of a reply: a JSON array, else one candidate per non-empty line; distinct. */
export function parseCandidates(content: string, n: number): string[] {
  const trimmed = content.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    const arr = JSON.parse(trimmed) as unknown;
    if (Array.isArray(arr)) {
      const out = distinct(
        arr.filter((x): x is string => typeof x === 'string' && x.trim().length > 0).map((x) => x.trim()),
        n,
      );
      if (out.length > 0) return out;
    }
  } catch {
    // not JSON: fall through to lines
  }
  return distinct(
    trimmed.split('\n').map((l) =>
      l
        .replace(/^\s*(?:[-*]|#?\d+[.):])\s*/, '')
        .replace(/^"(.*)",?$/, '$1')
        .trim(),
    ),
    n,
  );
}

/**
 * The LLM port over the `openai` package: timeout and retries by the client, token accounting
 * from the response's usage.
 */
export function createOpenAiParaphraser(o: OpenAiParaphraserOptions): Paraphraser {
  const client = new OpenAI({
    apiKey: o.apiKey,
    baseURL: o.baseURL,
    timeout: o.timeoutMs ?? 15_000,
    maxRetries: o.maxRetries ?? 2,
  });
  const provider = o.provider ?? (o.baseURL ? new URL(o.baseURL).host : 'openai');
  return {
    provider,
    model: o.model,
    async paraphrase(input: ParaphraseInput): Promise<ParaphraseOutput> {
      const n = input.n ?? 3;
      const t0 = performance.now();
      let res: OpenAI.Chat.Completions.ChatCompletion;
      try {
        res = await client.chat.completions.create({
          model: o.model,
          temperature: 0.7,
          ...(o.maxTokens === undefined ? {} : { max_tokens: o.maxTokens }),
          messages: [
            { role: 'system', content: 'You rewrite sentences for a writing assistant.' },
            { role: 'user', content: prompt(input, n) },
          ],
        });
      } catch (err) {
        const timeout = err instanceof OpenAI.APIConnectionTimeoutError;
        throw new UpstreamError(
          timeout ? 'llm_timeout' : 'llm_failed',
          `the LLM endpoint (model ${o.model}) failed: ${publicErrorKind(err)}`,
          'llm',
          err,
          timeout ? 504 : 502,
        );
      }
      const content = res.choices[0]?.message?.content ?? '';
      const candidates = parseCandidates(content, n);
      if (candidates.length === 0) {
        throw new UpstreamError(
          'llm_empty',
          `the LLM endpoint (model ${o.model}) returned no candidates`,
          'llm',
        );
      }
      return {
        candidates,
        provider,
        model: res.model || o.model,
        promptTokens: res.usage?.prompt_tokens ?? 0,
        completionTokens: res.usage?.completion_tokens ?? 0,
        latencyMs: performance.now() - t0,
      };
    },
  };
}
