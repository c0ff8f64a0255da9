/**
 * Imports the Sentencify data view and dashboard into Kibana through its saved-objects import API
 * (`POST /api/saved_objects/_import?overwrite=true`), so re-running it updates them in place.
 *
 *   KIBANA_URL=http://127.0.0.1:5601 npm run kibana:import [-- --file kibana/sentencify-dashboard.ndjson]
 *
 * Env: KIBANA_URL (required), KIBANA_API_KEY (the base64 `id:key`) or KIBANA_USERNAME /
 * KIBANA_PASSWORD, KIBANA_SPACE (a space id; default the default space).
 * Exits 0 when every object was imported, 1 when Kibana reported errors, 2 on bad arguments.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const DEFAULT_NDJSON = join(import.meta.dirname, '../kibana/sentencify-dashboard.ndjson');

export interface KibanaImportOptions {
  readonly url: string;
  readonly file?: string;
  readonly apiKey?: string;
  readonly username?: string;
  readonly password?: string;
  readonly space?: string;
  readonly fetch?: typeof fetch;
}

export interface KibanaImportResult {
  readonly success: boolean;
  readonly successCount: number;
  readonly errors: readonly { id: string; type: string; error: unknown }[];
}

/** Posts the NDJSON as the multipart `file` field Kibana's import API expects. */
export async function importSavedObjects(o: KibanaImportOptions): Promise<KibanaImportResult> {
  const file = o.file ?? DEFAULT_NDJSON;
  const body = new FormData();
  body.append('file', new Blob([readFileSync(file)], { type: 'application/ndjson' }), basename(file));
  const headers: Record<string, string> = { 'kbn-xsrf': 'sentencify' };
  if (o.apiKey) headers.authorization = `ApiKey ${o.apiKey}`;
  else if (o.username) {
    headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  }
  const base = o.url.replace(/\/+$/, '');
  const space = o.space ? `/s/${encodeURIComponent(o.space)}` : '';
  const res = await (o.fetch ?? fetch)(`${base}${space}/api/saved_objects/_import?overwrite=true`, {
    method: 'POST',
    headers,
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Kibana answered ${res.status}: ${text.slice(0, 500)}`);
  const json = JSON.parse(text) as Partial<KibanaImportResult>;
  return { success: json.success === true, successCount: json.successCount ?? 0, errors: json.errors ?? [] };
}

async function main() {
  const { values } = parseArgs({ options: { file: { type: 'string' } } });
  const url = process.env.KIBANA_URL?.trim();
  if (!url) {
    console.error('KIBANA_URL is not set (e.g. KIBANA_URL=http://127.0.0.1:5601 npm run kibana:import)');
    process.exit(2);
  }
  const blank = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const r = await importSavedObjects({
    url,
    file: values.file,
    apiKey: blank(process.env.KIBANA_API_KEY),
    username: blank(process.env.KIBANA_USERNAME),
    password: process.env.KIBANA_PASSWORD,
    space: blank(process.env.KIBANA_SPACE),
  });
  if (r.success) {
    console.log(`kibana: imported ${r.successCount} saved objects into ${url} (overwrite)`);
    return;
  }
  console.error(`kibana: ${r.errors.length} objects failed, ${r.successCount} imported:`);
  for (const e of r.errors) console.error(`  ${e.type}/${e.id}: ${JSON.stringify(e.error)}`);
  process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`kibana: ${(err as Error).message}`);
    process.exit(1);
  });
}
