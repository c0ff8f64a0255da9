/**
 * Writes JSON Schema (draft-07, what Schema Registries and ajv read) for every event and view to schemas/json/, for other
 * producers and for a Schema Registry. Usage: npm run schemas:export [-- --out DIR]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SCHEMA_FILES } from './registry.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'schemas/json' } } });
const out = values.out!;
await mkdir(out, { recursive: true });
for (const [name, { schema, title }] of Object.entries(SCHEMA_FILES)) {
  const json = { title, ...z.toJSONSchema(schema, { io: 'input', target: 'draft-7' }) };
  const file = join(out, `${name}.schema.json`);
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
