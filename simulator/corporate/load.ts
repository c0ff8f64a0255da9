import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { type CorporateRow, corporateRowSchema, DEFAULT_VOCABULARY } from '../../schemas/index.ts';

/**
 * Corporate data D: a partner's export of rewrite logs, one object per row. Expected fields
 * (`corporateRowSchema`, schemas/events.ts):
 *
 * | field | type | required |
 * |---|---|---|
 * | `user_id` | string, 1–200 chars | yes |
 * | `ts` | ISO-8601 UTC with `Z`, e.g. `2025-03-14T02:41:07Z` | yes |
 * | `category` | lower-case slug, e.g. `thesis`, `customer_service` | yes |
 * | `intensity` | `weak` \| `moderate` \| `strong` | yes |
 * | `accepted` | boolean (was the rewrite kept) | yes |
 * | `user_prompt` | free style request, ≤ 500 chars (default `""`) | no |
 * | `text` | the sentence that was rewritten | no |
 * | `language` | BCP-47 tag, e.g. `ko`, `en` | no |
 * | `company` | partner / tenant name | no |
 *
 * Column aliases are deliberately not guessed: a partner whose export differs maps it once,
 * and the rejected-row reasons say which field to map.
 */
export type CorporateFormat = 'json' | 'jsonl' | 'json-wrapped';

export interface RejectedRow {
  /** 1-based line in the source where the row starts (0 when it cannot be located). */
  readonly line: number;
  /** 1-based position of the row among all rows of the file. */
  readonly record: number;
  /** Every problem with the row, each naming its field: `accepted: expected boolean, received string`. */
  readonly reason: string;
}

export interface CorporateLoadReport {
  readonly source: string;
  readonly format: CorporateFormat;
  readonly records: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly users: number;
  /** Valid rows per language (`unknown` when the row names none). */
  readonly languages: Readonly<Record<string, number>>;
  readonly categories: Readonly<Record<string, number>>;
  /** Valid slugs outside the default vocabulary: kept, but worth a look (a typo or a new category). */
  readonly unknownCategories: readonly string[];
  /** How many rejected rows had a problem with each field. */
  readonly rejectedByField: Readonly<Record<string, number>>;
  readonly firstTs?: string;
  readonly lastTs?: string;
}

export interface CorporateLoadResult {
  readonly rows: CorporateRow[];
  readonly rejected: RejectedRow[];
  readonly report: CorporateLoadReport;
}

/** Keys under which a partner might wrap the row array in an object (`{ "data": [ … ] }`). */
const WRAPPER_KEYS = ['rows', 'data', 'records', 'items', 'events', 'logs'] as const;

interface RawRecord {
  readonly line: number;
  readonly value: unknown;
  /** Set when the record could not even be parsed as JSON. */
  readonly error?: string;
}

/**
 * Parses a D export held in memory, JSON array or JSON Lines (told apart by content, not by file
 * name), validating each row with `corporateRowSchema`. Never throws on bad input: bad rows (and an
 * unparseable file) come back in `rejected` with the line and a reason naming the field.
 *
 * @example
 * const { rows, rejected } = parseCorporateText('{"user_id":"u1","ts":"2025-03-01T00:00:00Z",…}\n');
 */
export function parseCorporateText(text: string, source = '(text)'): CorporateLoadResult {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const { format, records } = splitRecords(src);
  const rows: CorporateRow[] = [];
  const rejected: RejectedRow[] = [];
  const rejectedByField: Record<string, number> = {};
  records.forEach((r, i) => {
    if (r.error !== undefined) {
      rejected.push({ line: r.line, record: i + 1, reason: r.error });
      rejectedByField['(json)'] = (rejectedByField['(json)'] ?? 0) + 1;
      return;
    }
    if (typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) {
      rejected.push({ line: r.line, record: i + 1, reason: `not a JSON object (${describe(r.value)})` });
      rejectedByField['(row)'] = (rejectedByField['(row)'] ?? 0) + 1;
      return;
    }
    const parsed = corporateRowSchema.safeParse(r.value);
    if (parsed.success) {
      rows.push(parsed.data);
      return;
    }
    rejected.push({ line: r.line, record: i + 1, reason: formatIssues(parsed.error.issues) });
    for (const f of new Set(parsed.error.issues.map((is) => fieldOf(is))))
      rejectedByField[f] = (rejectedByField[f] ?? 0) + 1;
  });
  return {
    rows,
    rejected,
    report: summarise(source, format, records.length, rows, rejected, rejectedByField),
  };
}

/** Reads a D export from disk (`parseCorporateText` on its content); I/O errors do throw. */
export async function loadCorporateFile(path: string): Promise<CorporateLoadResult> {
  return parseCorporateText(await readFile(path, 'utf8'), path);
}

function splitRecords(src: string): { format: CorporateFormat; records: RawRecord[] } {
  const start = src.search(/\S/);
  if (start < 0) return { format: 'jsonl', records: [] };
  const first = src[start];
  if (first === '[') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(src);
    } catch (e) {
      return { format: 'json', records: [wholeFileError(src, e)] };
    }
    const values = parsed as unknown[];
    const lines = elementLines(src, 1);
    return { format: 'json', records: values.map((value, i) => ({ line: lines[i] ?? 0, value })) };
  }
  if (first === '{') {
    // A lone (possibly pretty-printed) object is either a wrapper around the rows or one row;
    // anything that is not one valid JSON document is JSON Lines.
    try {
      const whole: unknown = JSON.parse(src);
      const obj = whole as Record<string, unknown>;
      const key = WRAPPER_KEYS.find((k) => Array.isArray(obj[k]));
      if (key !== undefined) {
        const values = obj[key] as unknown[];
        const lines = elementLines(src, 2);
        const located = lines.length === values.length;
        return {
          format: 'json-wrapped',
          records: values.map((value, i) => ({ line: located ? lines[i]! : 0, value })),
        };
      }
      return { format: 'jsonl', records: [{ line: src.slice(0, start).split('\n').length, value: whole }] };
    } catch {
      // fall through to JSON Lines
    }
  }
  const records: RawRecord[] = [];
  src.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      records.push({ line: i + 1, value: JSON.parse(line) });
    } catch (e) {
      records.push({ line: i + 1, value: undefined, error: `not valid JSON: ${(e as Error).message}` });
    }
  });
  return { format: 'jsonl', records };
}

function wholeFileError(src: string, e: unknown): RawRecord {
  const msg = (e as Error).message;
  const pos = /position (\d+)/.exec(msg);
  const line = pos ? src.slice(0, Number(pos[1])).split('\n').length : 1;
  return { line, value: undefined, error: `the file is not valid JSON, no row could be read: ${msg}` };
}

/**
 * Start line of every element of the arrays at `depth` (1 = the top-level array, 2 = an array one
 * level inside a wrapper object), found with a tiny scanner that respects strings.
 */
function elementLines(src: string, depth: number): number[] {
  const lines: number[] = [];
  const stack: string[] = [];
  let line = 1;
  let inString = false;
  let escaped = false;
  let expecting = false;
  for (const ch of src) {
    if (ch === '\n') line += 1;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    const inTarget = stack.length === depth && stack[depth - 1] === '[';
    if (inTarget && expecting && !/\s/.test(ch) && ch !== ',' && ch !== ']') {
      lines.push(line);
      expecting = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      stack.push(ch);
      if (stack.length === depth && ch === '[') expecting = true;
    } else if (ch === ']' || ch === '}') stack.pop();
    else if (ch === ',' && inTarget) expecting = true;
  }
  return lines;
}

function fieldOf(issue: z.core.$ZodIssue): string {
  return issue.path.length > 0 ? issue.path.map(String).join('.') : '(row)';
}

/** `ts: an ISO-8601 UTC time …; accepted: missing (expected boolean)` — every issue, field first. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((is) => {
      const msg = is.message
        .replace(/^Invalid input: expected (\w+), received undefined$/, 'missing (expected $1)')
        .replace(/^Invalid input: /, '');
      return `${fieldOf(is)}: ${msg}`;
    })
    .join('; ');
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

function summarise(
  source: string,
  format: CorporateFormat,
  records: number,
  rows: readonly CorporateRow[],
  rejected: readonly RejectedRow[],
  rejectedByField: Record<string, number>,
): CorporateLoadReport {
  const languages: Record<string, number> = {};
  const categories: Record<string, number> = {};
  const users = new Set<string>();
  let firstTs: string | undefined;
  let lastTs: string | undefined;
  for (const r of rows) {
    users.add(r.user_id);
    const lang = r.language ?? 'unknown';
    languages[lang] = (languages[lang] ?? 0) + 1;
    categories[r.category] = (categories[r.category] ?? 0) + 1;
    // Validated ISO-UTC strings of one format compare correctly as strings only when their
    // fraction digits agree, so compare the instants.
    if (firstTs === undefined || Date.parse(r.ts) < Date.parse(firstTs)) firstTs = r.ts;
    if (lastTs === undefined || Date.parse(r.ts) > Date.parse(lastTs)) lastTs = r.ts;
  }
  const known = new Set<string>(DEFAULT_VOCABULARY.categories);
  return {
    source,
    format,
    records,
    accepted: rows.length,
    rejected: rejected.length,
    users: users.size,
    languages,
    categories,
    unknownCategories: Object.keys(categories)
      .filter((c) => !known.has(c))
      .sort(),
    rejectedByField,
    ...(firstTs !== undefined ? { firstTs } : {}),
    ...(lastTs !== undefined ? { lastTs } : {}),
  };
}
