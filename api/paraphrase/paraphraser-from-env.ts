import { z } from 'zod';
import { envInt, issueLines, withoutBlanks } from '../../common/service-env.ts';
import { createOfflineParaphraser } from './offline-paraphraser.ts';
import { createOpenAiParaphraser } from './openai-paraphraser.ts';
import type { Paraphraser } from './paraphraser.ts';

export type ParaphraserChoice = 'offline' | 'openai';

const schema = z.object({
  LLM_API_BASE: z.url().optional(),
  LLM_API_KEY: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LLM_TIMEOUT_MS: envInt(120_000, 100),
  /** Bounds each answer: a small local model otherwise rambles to its limit. */
  LLM_MAX_TOKENS: envInt(160, 1),
});

/**
 * The paraphraser a CLI flag (`--paraphraser offline|openai`) names: the offline one (labelled
 * provider "offline"), or the OpenAI-compatible endpoint of LLM_API_BASE / LLM_MODEL (the local
 * SmolLM2 of `services:up -- --with-models` writes both to .services.env).
 *
 * @example
 * const paraphraser = paraphraserForChoice('openai', environment());
 */
export function paraphraserForChoice(
  choice: ParaphraserChoice,
  raw: Record<string, string | undefined>,
): Paraphraser {
  if (choice === 'offline') return createOfflineParaphraser();
  const res = schema.safeParse(withoutBlanks(raw));
  if (!res.success) throw new Error(`invalid configuration:\n${issueLines(res.error).join('\n')}`);
  const e = res.data;
  const key = e.LLM_API_KEY ?? e.OPENAI_API_KEY;
  if (!e.LLM_API_BASE && !key) {
    throw new Error(
      'LLM_API_BASE is not set (`npm run services:up -- --with-models` writes it to .services.env)',
    );
  }
  return createOpenAiParaphraser({
    baseURL: e.LLM_API_BASE,
    apiKey: key ?? 'not-needed',
    model: e.LLM_MODEL,
    timeoutMs: e.LLM_TIMEOUT_MS,
    maxRetries: 1,
    maxTokens: e.LLM_MAX_TOKENS,
  });
}
