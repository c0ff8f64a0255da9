import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_VOCABULARY, languageSchema, type OptionVocabulary } from '../../schemas/index.ts';
import { CsvSyntaxError, parseCsv } from './csv.ts';

/** One sentence of the context pool: the input a simulated user selects in the editor. */
export interface ContextSample {
  readonly id: string;
  readonly category: string;
  readonly language: string;
  readonly text: string;
}

/** The pool shipped with the repo (the seeds' `test_data.csv`). */
export const DEFAULT_CONTEXTS_PATH = fileURLToPath(new URL('../data/contexts.csv', import.meta.url));

export const CONTEXT_COLUMNS = ['id', 'category', 'language', 'text'] as const;

export interface ContextPoolOptions {
  /** Categories a row may name (default: the 7 default categories). */
  readonly vocabulary?: OptionVocabulary;
  /** Languages a row may name (default ko, en); a typo such as "kr" is caught here, not downstream. */
  readonly languages?: readonly string[];
  /** Name used in error messages (default "contexts.csv"). */
  readonly source?: string;
}

/** The pool file is malformed; `problems` lists every bad line (up to 20), each with its number. */
export class ContextPoolError extends Error {
  readonly code = 'CONTEXT_POOL_INVALID';
  readonly retriable = false;
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(problems.join('\n'), options);
    this.name = 'ContextPoolError';
  }
}

const MAX_TEXT = 10_000;

/**
 * Parses and validates a context-pool CSV (`id,category,language,text`, header required, columns
 * in any order, extra columns ignored). Pure; throws `ContextPoolError` naming each bad line.
 *
 * @example
 * parseContextCsv('id,category,language,text\nc1,email,en,"Hi, all."\n')
 */
export function parseContextCsv(text: string, options: ContextPoolOptions = {}): ContextSample[] {
  const source = options.source ?? 'contexts.csv';
  const vocab = options.vocabulary ?? DEFAULT_VOCABULARY;
  const languages = new Set(options.languages ?? ['ko', 'en']);
  const categories = new Set(vocab.categories);
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new ContextPoolError([`${source} ${e.message}`], { cause: e });
    throw e;
  }
  const header = records.shift();
  if (!header)
    throw new ContextPoolError([`${source}: empty file, expected a header ${CONTEXT_COLUMNS.join(',')}`]);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const missing = CONTEXT_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0)
    throw new ContextPoolError([
      `${source} line ${header.line}: header lacks ${missing.join(', ')} (expected ${CONTEXT_COLUMNS.join(',')})`,
    ]);
  const col = Object.fromEntries(CONTEXT_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<
    (typeof CONTEXT_COLUMNS)[number],
    number
  >;

  const problems: string[] = [];
  const out: ContextSample[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records) {
    const at = `${source} line ${line}`;
    if (fields.length !== names.length) {
      problems.push(`${at}: ${fields.length} fields, the header has ${names.length} (is a comma unquoted?)`);
      continue;
    }
    const id = fields[col.id]!.trim();
    const category = fields[col.category]!.trim();
    const language = fields[col.language]!.trim();
    const body = fields[col.text]!.trim();
    const bad: string[] = [];
    if (id === '') bad.push('id is empty');
    else if (seen.has(id)) bad.push(`id "${id}" repeats line ${seen.get(id)}`);
    if (!categories.has(category))
      bad.push(`category "${category}" is not in the vocabulary (${vocab.categories.join(', ')})`);
    if (!languageSchema.safeParse(language).success || !languages.has(language))
      bad.push(`language "${language}" is not one of ${[...languages].join(', ')}`);
    if (body === '') bad.push('text is empty');
    else if (body.length > MAX_TEXT) bad.push(`text is longer than ${MAX_TEXT} characters`);
    if (bad.length > 0) {
      problems.push(`${at}: ${bad.join('; ')}`);
      continue;
    }
    seen.set(id, line);
    out.push({ id, category, language, text: body });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    throw new ContextPoolError(shown);
  }
  return out;
}

/** Reads and validates a context pool file (default: the shipped pool). */
export function loadContextPool(
  path: string = DEFAULT_CONTEXTS_PATH,
  options: Omit<ContextPoolOptions, 'source'> = {},
): ContextSample[] {
  return parseContextCsv(readFileSync(path, 'utf8'), { ...options, source: path });
}

/** Groups samples by `category|language` so a generator can draw a fitting sentence in O(1). */
export function indexContexts(samples: readonly ContextSample[]): Map<string, ContextSample[]> {
  const byKey = new Map<string, ContextSample[]>();
  for (const s of samples) {
    const key = contextKey(s.category, s.language);
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  return byKey;
}

export function contextKey(category: string, language: string): string {
  return `${category}|${language}`;
}
