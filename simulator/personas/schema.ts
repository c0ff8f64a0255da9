import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { categorySchema, intensitySchema } from '../../schemas/index.ts';
import { formatIssues } from '../corporate/load.ts';

const share = z.number().min(0).max(1);
const optionKeySchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]*:(weak|moderate|strong)$/, 'an option key such as "thesis:strong"');

/**
 * One persona, in the seeds' `personas.json` shape (Phase 3 plan): the five fields
 * `name, preferred_category, preferred_intensity, style_prompt, accept_rate` are required; what the
 * miner learns beyond them is optional, so a hand-written seeds-format file loads too.
 */
export const personaSchema = z.object({
  name: z.string().min(1).max(120),
  preferred_category: categorySchema,
  preferred_intensity: intensitySchema,
  /** The persona's most typical free style request ("학술적인 톤으로 변경해줘"); may be empty. */
  style_prompt: z.string().max(500),
  accept_rate: share,
  /** Option key (`category:intensity`) → share of the persona's choices. */
  option_distribution: z.record(optionKeySchema, share).optional(),
  /**
   * Doc field (a category) → share of the persona's sessions written in documents of that field;
   * their sentences come from that field's part of the context pool. Shares are relative (they
   * need not sum to 1). Without it the persona writes on every topic alike.
   */
  domains: z
    .record(categorySchema, z.number().min(0))
    .refine((d) => Object.values(d).some((v) => v > 0), 'at least one domain needs a share > 0')
    .optional(),
  /**
   * Doc field → the option (`category:intensity`) the persona picks when writing there; a field
   * it does not name falls back to `preferred_category`/`preferred_intensity`.
   */
  preferred_by_domain: z.record(categorySchema, optionKeySchema).optional(),
  /** Language tag → share of the persona's text. */
  languages: z.record(z.string().min(1), share).optional(),
  /** The persona's most frequent style requests, most frequent first. */
  style_prompts: z.array(z.string().max(500)).optional(),
  /** How many D users the persona was mined from. */
  users: z.number().int().min(0).optional(),
  description: z.string().max(2000).optional(),
});
export type Persona = z.infer<typeof personaSchema>;

export const personasFileSchema = z
  .array(personaSchema)
  .min(1, 'a personas file lists at least one persona')
  .superRefine((ps, ctx) => {
    const seen = new Map<string, number>();
    ps.forEach((p, i) => {
      const prev = seen.get(p.name);
      if (prev !== undefined)
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${p.name}" repeats persona ${prev}` });
      seen.set(p.name, i);
    });
  });

/** True when the persona's choice depends on what it writes (it has `domains` or `preferred_by_domain`). */
export function isContextDependent(p: Persona): boolean {
  return (
    (p.domains !== undefined && Object.keys(p.domains).length > 0) ||
    (p.preferred_by_domain !== undefined && Object.keys(p.preferred_by_domain).length > 0)
  );
}

/**
 * The option a persona picks in a document of `domain` — what a session is measured against:
 * its `preferred_by_domain` entry, else its single preferred option.
 *
 * @example
 * expectedOption(scholar, 'email'); // 'email:strong'
 */
export function expectedOption(p: Persona, domain: string | null): string {
  const own = domain !== null ? p.preferred_by_domain?.[domain] : undefined;
  return own ?? `${p.preferred_category}:${p.preferred_intensity}`;
}

/** The personas mined from the default generated sample (seed 42), shipped so the app needs no miner run. */
export const DEFAULT_PERSONAS_PATH = fileURLToPath(new URL('../data/personas.json', import.meta.url));

/** The context-dependent personas mined from the default context-dependent sample (seed 42). */
export const CONTEXT_PERSONAS_PATH = fileURLToPath(new URL('../data/personas-context.json', import.meta.url));

/** A personas file that cannot be used; the message names the file and every bad field (`[2].accept_rate: …`). */
export class PersonasFileError extends Error {
  readonly code = 'PERSONAS_INVALID';
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PersonasFileError';
  }
}

/** Validates already-parsed JSON as a personas file; throws `PersonasFileError` naming each bad field. */
export function parsePersonas(json: unknown, source = 'personas'): Persona[] {
  const res = personasFileSchema.safeParse(json);
  if (res.success) return res.data;
  const detail = formatIssues(
    res.error.issues.map((is) => ({
      ...is,
      path: is.path.map((p, i) => (i === 0 && typeof p === 'number' ? `[${p}]` : p)),
    })),
  );
  throw new PersonasFileError(`${source}: not a valid personas file: ${detail}`, { cause: res.error });
}

/**
 * Reads and validates a personas file in the seeds' format (default: the shipped one).
 *
 * @example
 * const personas = loadPersonas(process.argv[2] ?? DEFAULT_PERSONAS_PATH);
 */
export function loadPersonas(path: string = DEFAULT_PERSONAS_PATH): Persona[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PersonasFileError(`${path}: cannot read the personas file (${(e as Error).message})`, {
      cause: e,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PersonasFileError(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return parsePersonas(json, path);
}
