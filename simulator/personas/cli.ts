/**
 * Persona tooling for corporate data D.
 *
 *   tsx simulator/personas/cli.ts generate --out data.jsonl [--users 240] [--seed 42]
 *   tsx simulator/personas/cli.ts mine --input data.jsonl [--out personas.json] [--k K] [--seed 42]
 *   tsx simulator/personas/cli.ts load --input data.jsonl        (into MongoDB's raw_corporate_data)
 *   tsx simulator/personas/cli.ts mine --from-mongo [...]         (mines the collection instead of a file)
 *
 * `generate` also writes `<out>.truth.json` (user → latent type); `mine` picks it up beside its input
 * and reports how well the personas recover the planted types. Exit codes: 0 ok, 1 failed, 2 bad usage.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { z } from 'zod';
import { environment } from '../../common/environment.ts';
import type { CorporateRow } from '../../schemas/index.ts';
import {
  createMongoStores,
  DEFAULT_MONGODB_DB,
  MONGO_COLLECTIONS,
  parseWriteConcern,
} from '../../streams/stores/mongo-stores.ts';
import { generateCorporateSample } from '../corporate/generate.ts';
import { CONTEXT_LATENT_TYPES, mainOption } from '../corporate/latent-types.ts';
import { type CorporateLoadResult, loadCorporateFile, parseCorporateText } from '../corporate/load.ts';
import { DEFAULT_CONTEXTS_PATH, loadContextPool } from '../pools/contexts.ts';
import { minePersonas } from './mine.ts';
import { parsePersonas } from './schema.ts';

export const USAGE = `usage:
  tsx simulator/personas/cli.ts generate --out FILE [--users N] [--seed S] [--rows-per-user MIN-MAX]
                                         [--noise SHARE] [--contexts CSV] [--context-dependent]
      writes a synthetic corporate export D (JSON Lines, or a JSON array when FILE ends in .json)
      and FILE.truth.json with each user's latent type. Defaults: --users 240 --seed 42
      --rows-per-user 15-60 --noise 0.08 --contexts simulator/data/contexts.csv
      --context-dependent: the planted types choose by the field of what they write
  tsx simulator/personas/cli.ts mine --input FILE [--out personas.json] [--k K] [--seed S]
                                     [--truth FILE] [--report FILE] [--min-rows N]
                                     [--domains [--contexts CSV] [--min-domain-rows N]]
      mines 5–10 personas from D (JSON array or JSON Lines); k by silhouette unless --k.
      --domains: a row whose text is in the context pool has that sentence's field; personas get
      domains and preferred_by_domain where ≥ N rows (default 20) support a field.
      Scores against FILE.truth.json (or --truth) when present. Defaults: --seed 42 --min-rows 5
      With --from-mongo instead of --input: mines the rows of raw_corporate_data (see load).
  tsx simulator/personas/cli.ts load --input FILE [--url MONGODB_URL] [--db NAME]
      validates D and loads the valid rows into MongoDB's raw_corporate_data, idempotently (a row's
      _id is derived from its content: a re-run adds nothing). URL and database default to
      MONGODB_URL and MONGODB_DB (sentencify) from the environment or .services.env.`;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

class UsageError extends Error {}

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = consoleIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'generate') return await generateCommand(rest, io);
    if (command === 'mine') return await mineCommand(rest, io);
    if (command === 'load') return await loadCommand(rest, io);
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return 0;
    }
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
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

async function generateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      out: { type: 'string' },
      users: { type: 'string', default: '240' },
      seed: { type: 'string', default: '42' },
      'rows-per-user': { type: 'string', default: '15-60' },
      noise: { type: 'string', default: '0.08' },
      contexts: { type: 'string', default: DEFAULT_CONTEXTS_PATH },
      'context-dependent': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.out) throw new UsageError('--out is required');
  const users = integer('--users', values.users, 1, 1_000_000);
  const seed = integer('--seed', values.seed, 0, 2 ** 32 - 1);
  const rowsPerUser = rowRange(values['rows-per-user']);
  const noise = share('--noise', values.noise);
  const contexts = loadContextPool(values.contexts);
  const sample = generateCorporateSample({
    users,
    seed,
    rowsPerUser,
    noise,
    contexts,
    ...(values['context-dependent'] ? { types: CONTEXT_LATENT_TYPES } : {}),
  });

  const body = values.out.endsWith('.json')
    ? `[\n${sample.rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`
    : sample.rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  await writeFile(values.out, body);
  const truthPath = `${values.out}.truth.json`;
  const truth = {
    seed,
    users,
    rows_per_user: rowsPerUser,
    noise,
    types: sample.types.map((t) => ({ name: t.name, main_option: mainOption(t), weight: t.weight })),
    assignments: sample.truth,
  };
  await writeFile(truthPath, JSON.stringify(truth, null, 2) + '\n');
  const perType = countBy(Object.values(sample.truth));
  io.out(`generated ${sample.rows.length} rows for ${users} users (seed ${seed}) → ${values.out}`);
  io.out(`ground truth → ${truthPath}`);
  for (const t of sample.types)
    io.out(
      `  ${t.name.padEnd(16)} ${String(perType.get(t.name) ?? 0).padStart(5)} users  main ${mainOption(t)}`,
    );
  return 0;
}

const truthFileSchema = z.union([
  z.object({ assignments: z.record(z.string(), z.string()) }),
  z.record(z.string(), z.string()).transform((assignments) => ({ assignments })),
]);

async function mineCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      input: { type: 'string' },
      out: { type: 'string' },
      k: { type: 'string' },
      seed: { type: 'string', default: '42' },
      truth: { type: 'string' },
      report: { type: 'string' },
      'min-rows': { type: 'string', default: '5' },
      'from-mongo': { type: 'boolean', default: false },
      domains: { type: 'boolean', default: false },
      contexts: { type: 'string', default: DEFAULT_CONTEXTS_PATH },
      'min-domain-rows': { type: 'string', default: '20' },
      url: { type: 'string' },
      db: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.input === !values['from-mongo'])
    throw new UsageError('one of --input or --from-mongo is required');
  const k = values.k === undefined ? undefined : integer('--k', values.k, 1, 1000);
  const seed = integer('--seed', values.seed, 0, 2 ** 32 - 1);
  const minRowsPerUser = integer('--min-rows', values['min-rows'], 1, 1_000_000);
  const minDomainRows = integer('--min-domain-rows', values['min-domain-rows'], 1, 1_000_000);

  const loaded = values.input ? await loadCorporateFile(values.input) : await readCorporateFromMongo(values);
  printLoad(loaded, io);
  if (loaded.rows.length === 0) {
    io.err('error: no valid rows to mine');
    return 1;
  }
  const truthPath = values.truth ?? `${values.input}.truth.json`;
  const truth =
    values.truth !== undefined || (values.input && existsSync(truthPath))
      ? await readTruth(truthPath)
      : undefined;

  const mined = minePersonas(loaded.rows, {
    seed,
    minRowsPerUser,
    ...(values.domains ? { contexts: loadContextPool(values.contexts), minDomainRows } : {}),
    ...(k !== undefined ? { k } : {}),
    ...(truth ? { truth } : {}),
  });
  const { report, personas } = mined;
  if (report.kChosenBy === 'fixed')
    io.out(`k = ${report.k} (fixed), silhouette ${report.silhouette.toFixed(3)}`);
  else
    io.out(
      `k = ${report.k}: best mean silhouette over ${report.candidates.map((c) => `${c.k}=${c.silhouette.toFixed(3)}`).join(' ')}`,
    );
  if (report.personas < report.k)
    io.out(`${report.k - report.personas} cluster(s) came out empty: ${report.personas} personas`);
  io.out(
    `${report.fittedUsers} users fitted` +
      (report.lightUsers > 0
        ? `, ${report.lightUsers} with < ${minRowsPerUser} rows assigned afterwards`
        : ''),
  );
  io.out('');
  io.out(
    `${'persona'.padEnd(44)} ${'users'.padStart(5)}  ${'share'.padStart(5)}  ${'accept'.padStart(6)}  languages      style prompt`,
  );
  for (const p of personas) {
    const main = p.option_distribution?.[`${p.preferred_category}:${p.preferred_intensity}`] ?? 0;
    const langs = Object.entries(p.languages ?? {})
      .map(([l, s]) => `${l} ${Math.round(s * 100)}%`)
      .join(' ');
    io.out(
      `${p.name.padEnd(44)} ${String(p.users ?? '').padStart(5)}  ${`${Math.round(main * 100)}%`.padStart(5)}  ${p.accept_rate.toFixed(2).padStart(6)}  ${langs.padEnd(14)} ${p.style_prompt}`,
    );
  }
  if (report.truth) {
    io.out('');
    io.out(
      `ARI vs ground truth (${truthPath}): ${report.truth.ari.toFixed(3)} over ${report.truth.users} users`,
    );
    for (const r of report.truth.perPersona)
      io.out(
        `  ${r.persona.padEnd(44)} ← ${r.majorityType} (${Math.round(r.majorityShare * 100)}% of ${r.users})`,
      );
  }
  if (values.out) {
    parsePersonas(personas, values.out);
    await writeFile(values.out, formatJson(personas) + '\n');
    io.out(`\nwrote ${personas.length} personas → ${values.out}`);
  }
  if (values.report) {
    await writeFile(values.report, JSON.stringify({ load: loaded.report, mining: report }, null, 2) + '\n');
    io.out(`wrote report → ${values.report}`);
  }
  return 0;
}

interface MongoTarget {
  readonly url?: string | undefined;
  readonly db?: string | undefined;
}

/** The MongoDB of `--url`/`--db`, else MONGODB_URL/MONGODB_DB from the environment or .services.env. */
async function withCorporateStore<T>(
  target: MongoTarget,
  f: (store: ReturnType<typeof createMongoStores>, where: string) => Promise<T>,
): Promise<T> {
  const env = environment();
  const url = target.url ?? env.MONGODB_URL;
  if (!url)
    throw new Error('MONGODB_URL is not set (npm run services:up writes it to .services.env), nor --url');
  const db = target.db ?? (env.MONGODB_DB?.trim() || DEFAULT_MONGODB_DB);
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    const stores = createMongoStores(client, {
      db,
      writeConcern: parseWriteConcern(env.MONGODB_WRITE_CONCERN),
    });
    return await f(stores, `mongodb ${db}.${MONGO_COLLECTIONS.corporate}`);
  } finally {
    await client.close();
  }
}

/** raw_corporate_data as a load result, re-validated through the file loader's checks. */
async function readCorporateFromMongo(target: MongoTarget): Promise<CorporateLoadResult> {
  return withCorporateStore(target, async (stores, where) => {
    const rows: CorporateRow[] = [];
    for await (const page of stores.corporate.scan(5000)) rows.push(...page);
    return parseCorporateText(rows.map((r) => JSON.stringify(r)).join('\n'), where);
  });
}

async function loadCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { input: { type: 'string' }, url: { type: 'string' }, db: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (!values.input) throw new UsageError('--input is required');
  const loaded = await loadCorporateFile(values.input);
  const r = loaded.report;
  io.out(`read ${r.source} (${r.format}): ${r.records} rows, ${r.accepted} valid, ${r.rejected} invalid`);
  const shown = loaded.rejected.slice(0, 20);
  for (const x of shown) io.out(`  invalid line ${x.line} (row ${x.record}): ${x.reason}`);
  if (loaded.rejected.length > shown.length) io.out(`  … and ${loaded.rejected.length - shown.length} more`);
  if (loaded.rows.length === 0) {
    io.err('error: no valid rows to load');
    return 1;
  }
  return withCorporateStore(values, async (stores, where) => {
    await stores.ensureIndexes();
    const page = 1000;
    let inserted = 0;
    let existing = 0;
    for (let i = 0; i < loaded.rows.length; i += page) {
      const out = await stores.corporate.insertRows(loaded.rows.slice(i, i + page));
      inserted += out.inserted;
      existing += out.existing;
      const done = Math.min(i + page, loaded.rows.length);
      if (done === loaded.rows.length || (i / page) % 10 === 9)
        io.out(`  ${done}/${loaded.rows.length} rows written`);
    }
    io.out(`${where}: inserted ${inserted}, already there ${existing}, invalid ${loaded.rejected.length}`);
    return 0;
  });
}

function printLoad(loaded: CorporateLoadResult, io: CliIo): void {
  const r = loaded.report;
  io.out(
    `loaded ${r.source} (${r.format}): ${r.accepted} rows, ${r.rejected} rejected, ${r.users} users` +
      (r.firstTs ? `, ${r.firstTs} … ${r.lastTs}` : ''),
  );
  const shown = loaded.rejected.slice(0, 10);
  for (const x of shown) io.out(`  rejected line ${x.line} (row ${x.record}): ${x.reason}`);
  if (loaded.rejected.length > shown.length) io.out(`  … and ${loaded.rejected.length - shown.length} more`);
  if (r.unknownCategories.length > 0)
    io.out(`  note: categories outside the default vocabulary: ${r.unknownCategories.join(', ')}`);
}

async function readTruth(path: string): Promise<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`ground truth ${path}: ${(e as Error).message}`);
  }
  const res = truthFileSchema.safeParse(json);
  if (!res.success) throw new Error(`ground truth ${path}: expected { "assignments": { user_id: type } }`);
  return res.data.assignments;
}

function integer(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw.trim()) || n < min || n > max)
    throw new UsageError(`${flag} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

function share(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`${flag} must be a number between 0 and 1, got "${raw}"`);
  return n;
}

function rowRange(raw: string | undefined): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw ?? '');
  const lo = m ? Number(m[1]) : Number.NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!m || lo < 1 || hi < lo)
    throw new UsageError(`--rows-per-user must be N or MIN-MAX with 1 ≤ MIN ≤ MAX, got "${raw}"`);
  return [lo, hi];
}

const LINE_WIDTH = 110;

/**
 * JSON laid out the way the repo's formatter (biome) lays it out: objects expanded, arrays of
 * primitives on one line when they fit. A personas file regenerated into simulator/data/ then
 * passes `biome check` without a reformat.
 */
export function formatJson(value: unknown, indent = 0, prefix = 0): string {
  const pad = ' '.repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const inline = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (prefix + displayWidth(inline) + 1 <= LINE_WIDTH) return inline;
    }
    const items = value.map((v) => pad + formatJson(v, indent + 2, indent + 2));
    return `[\n${items.join(',\n')}\n${' '.repeat(indent)}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const items = entries.map(([k, v]) => {
      const key = `${JSON.stringify(k)}: `;
      return pad + key + formatJson(v, indent + 2, indent + 2 + key.length);
    });
    return `{\n${items.join(',\n')}\n${' '.repeat(indent)}}`;
  }
  return JSON.stringify(value);
}

/** Columns a string takes in a terminal: Hangul and other East Asian wide characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6);
    w += wide ? 2 : 1;
  }
  return w;
}

function countBy(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
