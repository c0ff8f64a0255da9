import { z } from 'zod';
import { envelope, idSchema, isoUtc, languageSchema } from './common.ts';
import { contextSchema, paraphraseRequestSchema, rankedOptionSchema } from './events.ts';
import { optionSchema } from './options.ts';

export const CONSISTENCY = ['high', 'medium', 'low'] as const;
export const consistencySchema = z.enum(CONSISTENCY);
export type Consistency = z.infer<typeof consistencySchema>;

/** How the session ended, as far as the funnel shows. */
export const OUTCOMES = ['accepted', 'edited', 'rejected', 'not_paraphrased', 'unknown'] as const;
export const outcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof outcomeSchema>;

export const sourceEventRefSchema = z.object({
  event_id: idSchema,
  type: z.enum(['recommend', 'paraphrase', 'selection']),
  topic: z.string(),
  partition: z.number().int().min(0),
  offset: z.number().int().min(0),
});
export type SourceEventRef = z.infer<typeof sourceEventRefSchema>;

/**
 * H — a training example: the joined A→B→C funnel of one recommend session.
 * `event_id` is `h:<recommend_session_id>:<revision>`, so sinks can upsert by id + revision.
 */
export const trainingExampleSchema = z.object({
  type: z.literal('training_example'),
  ...envelope,
  recommend_session_id: idSchema,
  revision: z.number().int().min(1),
  /** Stages present, in funnel order: "ABC", "AB", "A", "AC", "BC", … */
  funnel: z.string().regex(/^A?B?C?$/),
  /** complete: A, B and C all present; window: the window closed first; grace: a late event revised it. */
  closed_by: z.enum(['complete', 'window', 'grace']),
  doc_id: idSchema.nullable(),
  context: contextSchema.nullable(),
  recommended: z
    .object({
      event_id: idSchema,
      ts: isoUtc,
      options: z.array(rankedOptionSchema),
      alpha: z.number(),
      beta: z.number(),
      variant: z.string(),
      explored: z.boolean(),
      model_version: z.string(),
      profile_version: z.number().int().nullable(),
      /** The user's cluster when A was scored (A's `inputs.cluster_id`); absent in older H. */
      cluster_id: z.number().int().min(0).nullable().optional(),
    })
    .nullable(),
  paraphrases: z.array(
    z.object({
      event_id: idSchema,
      ts: isoUtc,
      request: paraphraseRequestSchema,
      candidates: z.array(z.string()),
      provider: z.string(),
      model: z.string(),
      variant: z.string(),
      /** LLM usage of this paraphrase (B's `llm`); absent in older H. */
      prompt_tokens: z.number().int().min(0).optional(),
      completion_tokens: z.number().int().min(0).optional(),
      latency_ms: z.number().min(0).optional(),
    }),
  ),
  selection: z
    .object({
      event_id: idSchema,
      ts: isoUtc,
      chosen_index: z.number().int().nullable(),
      final_text: z.string().nullable(),
      edited: z.boolean(),
    })
    .nullable(),
  /** The recommended option the user paraphrased with last (null for a free style request or no B). */
  chosen_option: optionSchema.nullable(),
  style_request: z.string().nullable(),
  accepted_text: z.string().nullable(),
  outcome: outcomeSchema,
  consistency: consistencySchema,
  consistency_reasons: z.array(z.string()),
  source_events: z.array(sourceEventRefSchema),
});
export type TrainingExample = z.infer<typeof trainingExampleSchema>;

const optionStatsSchema = z.object({
  /** Sessions in which the user paraphrased with this option. */
  selected: z.number().int().min(0),
  /** …and then accepted (or edited) a candidate. */
  accepted: z.number().int().min(0),
});

const meanVectorSchema = z.object({ n: z.number().int().min(0), vector: z.array(z.number()) });

/** G — a user profile, folded from H. */
export const userProfileSchema = z.object({
  user_id: idSchema,
  version: z.number().int().min(0),
  updated_ts: isoUtc.nullable(),
  sessions: z.number().int().min(0),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  not_paraphrased: z.number().int().min(0),
  style_requests: z.number().int().min(0),
  options: z.record(z.string(), optionStatsSchema),
  languages: z.record(languageSchema, z.number().int().min(0)),
  /** Running mean of the context embeddings of all the user's sessions. */
  embedding: meanVectorSchema.nullable(),
  /** Running mean of the context embeddings per selected option key. */
  option_embeddings: z.record(z.string(), meanVectorSchema),
  cluster_id: z.number().int().min(0).nullable(),
  /** Last applied H offset per partition of the training-examples topic. */
  applied_offsets: z.record(z.string(), z.number().int().min(-1)),
  /** What each recent session contributed, so a later revision replaces it exactly. */
  recent: z.record(
    z.string(),
    z.object({
      revision: z.number().int(),
      ts: isoUtc,
      option: z.string().nullable(),
      outcome: z.string(),
      style_request: z.boolean(),
      language: z.string().nullable(),
      embedded: z.boolean(),
    }),
  ),
});
export type UserProfile = z.infer<typeof userProfileSchema>;

/** J — a cluster profile, from periodic K-means over user vectors. */
export const clusterProfileSchema = z.object({
  cluster_id: z.number().int().min(0),
  version: z.number().int().min(0),
  ts: isoUtc,
  size: z.number().int().min(0),
  centroid: z.array(z.number()),
  /** Selection share per option key among the cluster's users (sums to 1 when any). */
  option_distribution: z.record(z.string(), z.number().min(0)),
  top_option: z.string().nullable(),
});
export type ClusterProfile = z.infer<typeof clusterProfileSchema>;
