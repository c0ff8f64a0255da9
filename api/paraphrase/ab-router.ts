import { uniformHash } from '../../common/hash.ts';
import type { Paraphraser } from './paraphraser.ts';

export interface AbRouterOptions {
  /** Variant A (control) and, optionally, variant B (the new model). */
  readonly a: Paraphraser;
  readonly b?: Paraphraser;
  /** Share of users in variant B, 0–1 (default 0.5 when B exists). */
  readonly bShare?: number;
  /** Changing the salt re-draws every user's variant (a new experiment). */
  readonly salt: string;
}

export interface AbRouter {
  variantOf(userId: string): 'A' | 'B';
  paraphraserFor(userId: string): { variant: 'A' | 'B'; paraphraser: Paraphraser };
}

/** The user's place in [0, 1) for an experiment salt: the same user always lands in the same variant. */
export const stickyBucket = (salt: string, userId: string): number => uniformHash(userId, salt);

/**
 * Sticky A/B assignment of users to paraphrase endpoints (the seeds' LLM_API_BASE and
 * LLM_API_BASE_NEW_MODEL). The variant is stamped on A and B events.
 */
export function createAbRouter(o: AbRouterOptions): AbRouter {
  const share = o.b ? (o.bShare ?? 0.5) : 0;
  const variantOf = (userId: string): 'A' | 'B' => (o.b && stickyBucket(o.salt, userId) < share ? 'B' : 'A');
  return {
    variantOf,
    paraphraserFor(userId) {
      const variant = variantOf(userId);
      return { variant, paraphraser: variant === 'B' && o.b ? o.b : o.a };
    },
  };
}
