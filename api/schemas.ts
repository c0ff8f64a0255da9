import { z } from 'zod';
import {
  categorySchema,
  clusterProfileSchema,
  idSchema,
  intensitySchema,
  languageSchema,
  rankedOptionSchema,
  userProfileSchema,
} from '../schemas/index.ts';

const text = z.string().trim().min(1, 'must not be empty').max(10_000);

export const recommendRequestSchema = z.strictObject({
  user_id: idSchema,
  text,
  doc_id: idSchema.optional(),
  prev_sentence: z.string().max(10_000).optional(),
  next_sentence: z.string().max(10_000).optional(),
  /** BCP-47; detected from the text (Hangul → ko, else en) when absent. */
  language: languageSchema.optional(),
  doc_field: categorySchema.optional(),
  /** An editor may bring its own session id; otherwise one is made. */
  recommend_session_id: idSchema.optional(),
});
export type RecommendRequest = z.infer<typeof recommendRequestSchema>;

export const recommendResponseSchema = z.object({
  recommend_session_id: idSchema,
  options: z.array(rankedOptionSchema),
  profile_version: z.number().int().nullable(),
  model_version: z.string(),
  variant: z.string(),
  explored: z.boolean(),
  cold_start: z.boolean(),
  cluster_id: z.number().int().nullable(),
  embedder: z.object({ model: z.string(), offline: z.boolean() }),
  /** Which vector index answered P_vec (`memory`, `qdrant`). */
  vector_index: z.string(),
  degraded: z.boolean().optional(),
  degraded_reasons: z.array(z.string()).optional(),
});
export type RecommendResponse = z.infer<typeof recommendResponseSchema>;

export const paraphraseRequestBodySchema = z
  .strictObject({
    recommend_session_id: idSchema,
    user_id: idSchema,
    text,
    category: categorySchema.optional(),
    intensity: intensitySchema.optional(),
    style_request: z.string().trim().min(1).max(500).optional(),
    language: languageSchema.optional(),
    doc_id: idSchema.optional(),
    n: z.number().int().min(1).max(10).optional(),
  })
  .superRefine((b, ctx) => {
    const option = b.category !== undefined || b.intensity !== undefined;
    if (option && b.style_request !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['style_request'],
        message: 'give either category + intensity or style_request, not both',
      });
    } else if (option && (b.category === undefined || b.intensity === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [b.category === undefined ? 'category' : 'intensity'],
        message: 'category and intensity go together',
      });
    } else if (!option && b.style_request === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['category'],
        message: 'give category + intensity, or a style_request',
      });
    }
  });

export const paraphraseResponseSchema = z.object({
  recommend_session_id: idSchema,
  candidates: z.array(z.string()),
  provider: z.string(),
  model: z.string(),
  variant: z.string(),
  offline: z.boolean(),
});
export type ParaphraseResponse = z.infer<typeof paraphraseResponseSchema>;

export const selectRequestSchema = z.strictObject({
  recommend_session_id: idSchema,
  user_id: idSchema,
  chosen_index: z.number().int().min(0).max(19).nullable(),
  final_text: z.string().max(20_000).optional(),
  edited: z.boolean().optional(),
});

export const selectResponseSchema = z.object({
  ok: z.literal(true),
  event_id: idSchema,
  recommend_session_id: idSchema,
});
export type SelectResponse = z.infer<typeof selectResponseSchema>;

export const errorResponseSchema = z.object({
  error: z.string(),
  message: z.string(),
  retriable: z.boolean(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const profileResponseSchema = userProfileSchema;
export type ProfileResponse = z.infer<typeof profileResponseSchema>;
export const clustersResponseSchema = z.object({ clusters: z.array(clusterProfileSchema) });
export type ClustersResponse = z.infer<typeof clustersResponseSchema>;

export const healthResponseSchema = z.object({ status: z.literal('ok') });
export type HealthResponse = z.infer<typeof healthResponseSchema>;
/** Loose: a process may say more about what it is waiting for. */
export const readyResponseSchema = z.looseObject({ ready: z.boolean() });
export type ReadyResponse = z.infer<typeof readyResponseSchema>;

/** Hangul anywhere → Korean, else English: enough to pick the option language filter. */
export function detectLanguage(s: string): string {
  return /[\u3131-\u318e\uac00-\ud7a3]/.test(s) ? 'ko' : 'en';
}
