import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NDJSON, importSavedObjects } from '../../../scripts/kibana-import.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('npm run kibana:import', () => {
  const seen: Seen[] = [];
  let answer = { status: 200, body: { success: true, successCount: 2 } as unknown };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts the NDJSON as multipart `file` to the import API with overwrite, kbn-xsrf and an API key', async () => {
    const r = await importSavedObjects({ url, apiKey: 'abc==' });
    expect(r).toEqual({ success: true, successCount: 2, errors: [] });
    const s = seen.at(-1)!;
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/api/saved_objects/_import?overwrite=true');
    expect(s.headers['kbn-xsrf']).toBeTruthy();
    expect(s.headers.authorization).toBe('ApiKey abc==');
    expect(s.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(s.body).toContain('name="file"; filename="sentencify-dashboard.ndjson"');
    expect(s.body).toContain(readFileSync(DEFAULT_NDJSON, 'utf8').trim());
  });

  it('uses basic auth and a space when given, and reports Kibana errors', async () => {
    answer = {
      status: 200,
      body: {
        success: false,
        successCount: 1,
        errors: [{ id: 'x', type: 'dashboard', error: { type: 'conflict' } }],
      },
    };
    const r = await importSavedObjects({ url, username: 'elastic', password: 'pw', space: 'ops' });
    expect(r.success).toBe(false);
    expect(r.errors).toHaveLength(1);
    const s = seen.at(-1)!;
    expect(s.url).toBe('/s/ops/api/saved_objects/_import?overwrite=true');
    expect(s.headers.authorization).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
  });

  it('throws on an HTTP error with what Kibana said', async () => {
    answer = { status: 401, body: { message: 'unauthorized' } };
    await expect(importSavedObjects({ url })).rejects.toThrow(/401.*unauthorized/);
  });
});
