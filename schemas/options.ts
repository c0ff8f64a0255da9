import { z } from 'zod';

/** Default rewrite-option vocabulary: categories × intensities (DESIGN §1). */
export const DEFAULT_CATEGORIES = [
  'thesis',
  'email',
  'report',
  'article',
  'marketing',
  'customer_service',
  'general',
] as const;

export const INTENSITIES = ['weak', 'moderate', 'strong'] as const;

/** Categories are slugs so other producers can extend the vocabulary without a schema change. */
export const categorySchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'a lower-case slug such as "thesis" or "customer_service"');
export const intensitySchema = z.enum(INTENSITIES);

export type Category = z.infer<typeof categorySchema>;
export type Intensity = z.infer<typeof intensitySchema>;

export const optionSchema = z.object({ category: categorySchema, intensity: intensitySchema });
export type RewriteOption = z.infer<typeof optionSchema>;

/** A stable string key for an option, used in profile maps: `thesis:strong`. */
export type OptionKey = `${string}:${Intensity}`;

export function optionKey(o: RewriteOption): OptionKey {
  return `${o.category}:${o.intensity}`;
}

export function parseOptionKey(key: string): RewriteOption {
  const i = key.lastIndexOf(':');
  return optionSchema.parse({ category: key.slice(0, i), intensity: key.slice(i + 1) });
}

export interface OptionVocabulary {
  readonly categories: readonly string[];
  readonly intensities: readonly Intensity[];
}

export const DEFAULT_VOCABULARY: OptionVocabulary = Object.freeze({
  categories: DEFAULT_CATEGORIES,
  intensities: INTENSITIES,
});

/** Every option of a vocabulary, categories outer, intensities inner. */
export function allOptions(vocab: OptionVocabulary = DEFAULT_VOCABULARY): RewriteOption[] {
  return vocab.categories.flatMap((category) =>
    vocab.intensities.map((intensity) => ({ category, intensity })),
  );
}
