/**
 * Writes JSON Schema (draft-07, what Schema Registries and ajv read) for every event and view to schemas/json/, for other
 * producers and for a Schema Registry. Usage: npm run schemas:export [-- --out DIR]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jsonSchemaOf, SCHEMA_FILES } from './registry.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'schemas/json' } } });
const out = values.out!;
await mkdir(out, { recursive: true });
for (const name of Object.keys(SCHEMA_FILES)) {
  const json = jsonSchemaOf(name);
  const file = join(out, `${name}.schema.json`);
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
