import { z } from 'zod';
import { envelope, idSchema, isoUtc, languageSchema } from './common.ts';
import { categorySchema, intensitySchema, optionSchema } from './options.ts';

/** The sentence being rewritten and what surrounds it. */
export const contextSchema = z.object({
  text: z.string().min(1).max(10_000),
  prev_sentence: z.string().max(10_000).optional(),
  next_sentence: z.string().max(10_000).optional(),
  language: languageSchema,
  doc_field: categorySchema.optional(),
});
export type Context = z.infer<typeof contextSchema>;

export const scoreComponentsSchema = z.object({
  vec: z.number(),
  doc: z.number(),
  user: z.number(),
  cluster: z.number(),
});

export const rankedOptionSchema = z.object({
  category: categorySchema,
  intensity: intensitySchema,
  rank: z.number().int().min(1),
  score: z.number(),
  propensity: z.number().min(0).max(1),
  components: scoreComponentsSchema,
  reason: z.string().max(500).optional(),
});
export type RankedOption = z.infer<typeof rankedOptionSchema>;

/** A — options recommended for a sentence (API /recommend or any editor service). */
export const recommendEventSchema = z.object({
  type: z.literal('recommend'),
  ...envelope,
  recommend_session_id: idSchema,
  doc_id: idSchema.optional(),
  context: contextSchema,
  options: z.array(rankedOptionSchema).min(1).max(200),
  alpha: z.number().min(0).max(1),
  beta: z.number().min(0).max(1),
  variant: z.string().min(1).max(40),
  epsilon: z.number().min(0).max(1).default(0),
  explored: z.boolean().default(false),
  model_version: z.string().min(1).max(80),
  profile_version: z.number().int().min(0).nullable().default(null),
  /**
   * What the scorer read besides the profile: the neighbours from the vector index, the document's
   * history and the cluster. With the profile at `profile_version`, the A can be re-scored exactly.
   */
  inputs: z
    .object({
      neighbours: z
        .array(
          z.object({
            id: z.string(),
            score: z.number(),
            option_key: z.string().nullable(),
            language: z.string(),
          }),
        )
        .max(200),
      doc_history: z.record(z.string(), z.number().int().min(0)),
      cluster_id: z.number().int().min(0).nullable(),
    })
    .optional(),
});
export type RecommendEvent = z.infer<typeof recommendEventSchema>;

/** What the paraphrase was asked for: a recommended option, or a free style request. */
export const paraphraseRequestSchema = z.union([
  z.strictObject({ category: categorySchema, intensity: intensitySchema }),
  z.strictObject({ style_request: z.string().min(1).max(500) }),
]);
export type ParaphraseRequest = z.infer<typeof paraphraseRequestSchema>;

/** B — a paraphrase executed by an LLM. */
export const paraphraseEventSchema = z.object({
  type: z.literal('paraphrase'),
  ...envelope,
  recommend_session_id: idSchema,
  request: paraphraseRequestSchema,
  candidates: z.array(z.string().min(1).max(20_000)).min(1).max(20),
  llm: z.object({
    provider: z.string().min(1).max(80),
    model: z.string().min(1).max(120),
    variant: z.string().min(1).max(40),
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    latency_ms: z.number().min(0),
  }),
});
export type ParaphraseEvent = z.infer<typeof paraphraseEventSchema>;

/** C — the user's final choice: a candidate index, or null when every candidate was rejected. */
export const selectionEventSchema = z.object({
  type: z.literal('selection'),
  ...envelope,
  recommend_session_id: idSchema,
  chosen_index: z.number().int().min(0).nullable(),
  final_text: z.string().max(20_000).optional(),
  edited: z.boolean().default(false),
});
export type SelectionEvent = z.infer<typeof selectionEventSchema>;

/** The three session events, discriminated on `type` (CONVENTIONS #10). */
export const sessionEventSchema = z.discriminatedUnion('type', [
  recommendEventSchema,
  paraphraseEventSchema,
  selectionEventSchema,
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;
export type SessionEventType = SessionEvent['type'];

/** D — one row of a partner's corporate log export (analysis only, never scored directly). */
export const corporateRowSchema = z.object({
  user_id: idSchema,
  ts: isoUtc,
  category: categorySchema,
  intensity: intensitySchema,
  user_prompt: z.string().max(500).default(''),
  accepted: z.boolean(),
  text: z.string().max(10_000).optional(),
  language: languageSchema.optional(),
  company: z.string().max(200).optional(),
});
export type CorporateRow = z.infer<typeof corporateRowSchema>;

/** E — a context record for the vector index (pool import or live traffic). */
export const contextRecordSchema = z.object({
  type: z.literal('context'),
  ...envelope,
  /** Pool imports have no user; live traffic names one. */
  user_id: idSchema.nullable(),
  context_id: idSchema,
  text: z.string().min(1).max(10_000),
  language: languageSchema,
  category: categorySchema.optional(),
  option: optionSchema.optional(),
  embedding: z.array(z.number()).max(4096).optional(),
});
export type ContextRecord = z.infer<typeof contextRecordSchema>;
