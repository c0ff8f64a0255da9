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

/**
 * The sentence: at least one non-blank character (the pattern says so in the OpenAPI document,
 * so the schema and the server agree that whitespace-only text is refused), trimmed after.
 */
const text = z.string().max(10_000).regex(/\S/, 'must not be blank').trim();

export const recommendRequestSchema = z.strictObject({
  user_id: idSchema,
  text,
  doc_id: idSchema.optional(),
  prev_sentence: z.string().max(10_000).optional(),
  next_sentence: z.string().max(10_000).optional(),
  /** BCP-47; detected from the text (Hangul → ko, else en) when absent. */
  language: languageSchema.optional(),
  doc_field: categorySchema.optional(),
  /**
   * An editor may bring its own session id: accepted only if no session ever had it (409
   * `session_exists` otherwise). Without it the server issues an unguessable one (the usual case).
   */
  recommend_session_id: idSchema.optional(),
  /** Answer only the top `limit` options (default: all of the vocabulary's). */
  limit: z.number().int().min(1).max(100).optional(),
  /** Read-your-writes: wait (up to a bound) for the user's profile to reach this version. */
  min_profile_version: z.number().int().min(0).optional(),
  /** Read-your-writes: the `as_of` token a `/select` answered; wait until the profile includes it. */
  as_of: z.string().min(1).max(512).optional(),
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
  /** Present when the request asked for `min_profile_version` or `as_of`. */
  read_your_writes: z
    .object({
      /** How long the answer waited for the profile to catch up. */
      waited_ms: z.number().min(0),
      /** false: the bound passed (or the profile store failed) first; the answer used what was there. */
      satisfied: z.boolean(),
    })
    .optional(),
});
export type RecommendResponse = z.infer<typeof recommendResponseSchema>;

const paraphraseCommon = {
  recommend_session_id: idSchema,
  user_id: idSchema,
  text,
  language: languageSchema.optional(),
  doc_id: idSchema.optional(),
  n: z.number().int().min(1).max(10).optional(),
};

/** `/paraphrase` with one of the recommended options. */
export const paraphraseOptionBodySchema = z.strictObject({
  ...paraphraseCommon,
  category: categorySchema,
  intensity: intensitySchema,
});
/** `/paraphrase` with a free style request instead. */
export const paraphraseStyleBodySchema = z.strictObject({
  ...paraphraseCommon,
  style_request: z.string().max(500).regex(/\S/, 'must not be blank').trim(),
});

/** Exactly one of the two forms (`oneOf` in the OpenAPI document). */
export const paraphraseRequestBodySchema = z.xor([paraphraseOptionBodySchema, paraphraseStyleBodySchema]);
export type ParaphraseRequestBody = z.infer<typeof paraphraseRequestBodySchema>;

/**
 * The first issue of a `/paraphrase` body that is neither form, said in terms of the form the
 * body was aiming at (a union's own error says only that no alternative matched).
 */
export function paraphraseBodyIssues(body: unknown): { path: string; message: string }[] {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const option = b.category !== undefined || b.intensity !== undefined;
  const style = b.style_request !== undefined;
  if (option && style)
    return [
      { path: 'style_request', message: 'give either category + intensity or style_request, not both' },
    ];
  if (!option && !style)
    return [{ path: 'category', message: 'give category + intensity, or a style_request' }];
  const res = (option ? paraphraseOptionBodySchema : paraphraseStyleBodySchema).safeParse(body);
  if (res.success) return [];
  return res.error.issues.map((i) => ({
    path: i.path.join('.') || '(body)',
    message:
      option && (b.category === undefined || b.intensity === undefined) && i.code === 'invalid_value'
        ? 'category and intensity go together'
        : i.message,
  }));
}

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
  /** Event id of C (derived from the Idempotency-Key when one was sent). */
  event_id: idSchema,
  recommend_session_id: idSchema,
  /**
   * Read-your-writes token: pass it to `/recommend` as `as_of` to have the answer wait (up to a
   * bound) until the user's profile includes this selection. Opaque.
   */
  as_of: z.string(),
});
export type SelectResponse = z.infer<typeof selectResponseSchema>;

export const errorResponseSchema = z.object({
  error: z.string(),
  message: z.string(),
  retriable: z.boolean(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** `GET /users/:id/profile?view=full`: G as the fold stores it. */
export const fullProfileResponseSchema = userProfileSchema;
/**
 * `GET /users/:id/profile` (`view=slim`, the default): G without the context-embedding means (384
 * numbers each), the fold's applied offsets and its per-session bookkeeping.
 */
export const slimProfileResponseSchema = userProfileSchema
  .omit({ embedding: true, option_embeddings: true, applied_offsets: true, recent: true })
  .extend({
    view: z.literal('slim'),
    /** Sessions folded into the context-embedding mean (0: none had a context yet). */
    embedded_sessions: z.number().int().min(0),
    /** Sessions the fold still remembers individually (the recent ones). */
    recent_sessions: z.number().int().min(0),
  });
export const profileResponseSchema = z.union([slimProfileResponseSchema, fullProfileResponseSchema]);
export type SlimProfileResponse = z.infer<typeof slimProfileResponseSchema>;
export type FullProfileResponse = z.infer<typeof fullProfileResponseSchema>;
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
