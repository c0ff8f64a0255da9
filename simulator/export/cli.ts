/**
 * Fine-tuning export of H (training examples, JSON Lines):
 *
 *   tsx simulator/export/cli.ts --input h.jsonl --out DIR [--min-consistency high|medium|low]
 *                               [--pairs-per-session N] [--exclude-edited] [--pair-format F]
 *                               [--no-metadata]
 *
 * Writes DIR/chat.jsonl (chat-format examples) and DIR/preference-pairs.jsonl (DPO pairs). Lines
 * that are not valid H are reported with their line number and the failing path, never thrown.
 * Exit codes: 0 ok, 1 failed (unreadable input, or no valid H among rejected lines), 2 bad usage.
 */
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CONSISTENCY,
  type Consistency,
  type TrainingExample,
  trainingExampleSchema,
} from '../../schemas/index.ts';
import { type SkipReason, toChatExamples, toPreferencePairs } from './fine-tuning.ts';

export const USAGE = `usage:
  tsx simulator/export/cli.ts --input FILE --out DIR [--min-consistency high|medium|low]
                              [--pairs-per-session N] [--exclude-edited]
                              [--pair-format conversational|text] [--no-metadata]
      reads H (training examples) as JSON Lines, keeps the latest revision of each session and writes
      DIR/chat.jsonl (one chat example per accepted or edited session) and DIR/preference-pairs.jsonl
      (the kept text against up to N candidates the user did not pick). Defaults: --min-consistency
      medium --pairs-per-session 2 --pair-format conversational; edited sessions included.`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

class UsageError extends Error {}

export interface RejectedLine {
  readonly line: number;
  readonly reason: string;
}

export interface ReadResult {
  readonly examples: TrainingExample[];
  readonly rejected: RejectedLine[];
  /** Non-blank lines read. */
  readonly lines: number;
}

/** Reads H as JSON Lines; blank lines are ignored, invalid ones are collected with their number. */
export async function readTrainingExamples(path: string): Promise<ReadResult> {
  const examples: TrainingExample[] = [];
  const rejected: RejectedLine[] = [];
  let n = 0;
  let lines = 0;
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const raw of rl) {
    n++;
    const text = (n === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
    if (text === '') continue;
    lines++;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      rejected.push({ line: n, reason: `invalid JSON: ${(e as Error).message}` });
      continue;
    }
    const res = trainingExampleSchema.safeParse(json);
    if (res.success) examples.push(res.data);
    else {
      const issues = res.error.issues;
      const shown = issues
        .slice(0, 3)
        .map((i) => `${formatPath(i.path)}: ${i.message}`)
        .join('; ');
      rejected.push({ line: n, reason: issues.length > 3 ? `${shown}; … ${issues.length - 3} more` : shown });
    }
  }
  return { examples, rejected, lines };
}

/** `paraphrases[0].candidates[1]`; `(root)` for an issue on the whole line. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? String(p) : `.${String(p)}`;
  }
  return s === '' ? '(root)' : s;
}

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export async function runExportCli(argv: readonly string[], io: CliIo = consoleIo): Promise<number> {
  try {
    if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.out(USAGE);
      return 0;
    }
    return await exportCommand(argv, io);
  } catch (e) {
    if (e instanceof UsageError || isParseArgsError(e)) {
      io.err(`error: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    io.err(`error: ${(e as Error).message}`);
    return 1;
  }
}

function isParseArgsError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

async function exportCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      input: { type: 'string' },
      out: { type: 'string' },
      'min-consistency': { type: 'string', default: 'medium' },
      'pairs-per-session': { type: 'string', default: '2' },
      'exclude-edited': { type: 'boolean', default: false },
      'pair-format': { type: 'string', default: 'conversational' },
      'no-metadata': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.input) throw new UsageError('--input is required');
  if (!values.out) throw new UsageError('--out is required');
  const minConsistency: Consistency = oneOf('--min-consistency', values['min-consistency'], CONSISTENCY);
  const pairsPerSession = integer('--pairs-per-session', values['pairs-per-session'], 1, 1000);
  const format = oneOf('--pair-format', values['pair-format'], ['conversational', 'text'] as const);
  const opts = {
    minConsistency,
    includeEdited: !values['exclude-edited'],
    metadata: !values['no-metadata'],
  };

  const read = await readTrainingExamples(values.input);
  io.out(
    `read ${values.input}: ${read.lines} lines, ${read.examples.length} training examples, ${read.rejected.length} rejected`,
  );
  const shown = read.rejected.slice(0, 10);
  for (const r of shown) io.out(`  rejected line ${r.line}: ${r.reason}`);
  if (read.rejected.length > shown.length) io.out(`  … and ${read.rejected.length - shown.length} more`);
  if (read.examples.length === 0 && read.rejected.length > 0) {
    io.err('error: no valid training examples (H) in the input');
    return 1;
  }

  const chat = toChatExamples(read.examples, opts);
  const pairs = toPreferencePairs(read.examples, { ...opts, pairsPerSession, format });

  await mkdir(values.out, { recursive: true });
  const chatPath = join(values.out, 'chat.jsonl');
  const pairsPath = join(values.out, 'preference-pairs.jsonl');
  await writeFile(chatPath, jsonl(chat.lines));
  await writeFile(pairsPath, jsonl(pairs.lines));

  io.out(
    `sessions: ${chat.sessions} (latest revision of each recommend_session_id, min consistency ${minConsistency})`,
  );
  io.out(`chat examples: ${chat.lines.length} → ${chatPath}`);
  io.out(`  skipped: ${formatSkipped(chat.skipped)}`);
  io.out(
    `preference pairs: ${pairs.lines.length} from ${pairs.pairedSessions} sessions (≤ ${pairsPerSession} each, ${format}) → ${pairsPath}`,
  );
  io.out(`  skipped: ${formatSkipped(pairs.skipped)}`);
  if (pairs.identical > 0)
    io.out(`  ${pairs.identical} candidates equal to the kept text or a repeat: not paired`);
  return 0;
}

function jsonl(lines: readonly unknown[]): string {
  return lines.length === 0 ? '' : lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

function formatSkipped(skipped: Partial<Record<SkipReason, number>>): string {
  const entries = Object.entries(skipped).filter(([, n]) => (n ?? 0) > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T {
  if (raw === undefined || !(allowed as readonly string[]).includes(raw))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function integer(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw.trim()) || n < min || n > max)
    throw new UsageError(`${flag} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runExportCli(process.argv.slice(2));
}
