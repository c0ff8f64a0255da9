/**
 * Regenerates simulator/data/contexts.csv from the sentence bank. The CSV is committed, so this only
 * runs when the bank changes: `tsx simulator/pools/build-contexts.ts [--out path] [--seed n]`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { composeContexts } from './context-fragments.ts';
import { CONTEXT_COLUMNS, DEFAULT_CONTEXTS_PATH, parseContextCsv } from './contexts.ts';
import { formatCsv } from './csv.ts';

const { values } = parseArgs({
  options: { out: { type: 'string' }, seed: { type: 'string' }, 'per-language': { type: 'string' } },
});
const out = values.out ?? DEFAULT_CONTEXTS_PATH;
const samples = composeContexts({
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  ...(values['per-language'] ? { perLanguage: Number(values['per-language']) } : {}),
});
const csv = formatCsv([[...CONTEXT_COLUMNS], ...samples.map((s) => [s.id, s.category, s.language, s.text])]);
// Round-trip through the loader so a bank change can never ship a file the loader rejects.
parseContextCsv(csv);
writeFileSync(out, csv);
console.log(`${samples.length} contexts, ${Buffer.byteLength(csv)} bytes → ${out}`);
