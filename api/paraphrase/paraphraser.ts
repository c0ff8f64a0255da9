import type { ParaphraseRequest } from '../../schemas/index.ts';

export interface ParaphraseInput {
  readonly text: string;
  readonly language: string;
  readonly request: ParaphraseRequest;
  /** How many candidates to return (default 3). */
  readonly n?: number;
}

export interface ParaphraseOutput {
  readonly candidates: string[];
  /** "offline" for the deterministic fallback, else the endpoint's provider name. */
  readonly provider: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly latencyMs: number;
}

/** The LLM port: OpenAI or any OpenAI-compatible endpoint, or the offline paraphraser. */
export interface Paraphraser {
  readonly provider: string;
  readonly model: string;
  paraphrase(input: ParaphraseInput): Promise<ParaphraseOutput>;
}
