import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../simulator/personas/cli.ts';
import { loadPersonas } from '../../../../simulator/personas/schema.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('persona CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'persona-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates D with its ground truth, then mines personas and scores them', async () => {
    const data = join(dir, 'd.jsonl');
    const gen = capture();
    expect(
      await runCli(
        ['generate', '--users', '80', '--seed', '5', '--rows-per-user', '20-40', '--out', data],
        gen.io,
      ),
    ).toBe(0);
    expect(existsSync(`${data}.truth.json`)).toBe(true);
    expect(gen.out[0]).toMatch(/^generated \d+ rows for 80 users \(seed 5\)/);

    const personas = join(dir, 'personas.json');
    const report = join(dir, 'report.json');
    const mine = capture();
    expect(await runCli(['mine', '--input', data, '--out', personas, '--report', report], mine.io)).toBe(0);
    const text = mine.out.join('\n');
    expect(text).toMatch(/0 rejected, 80 users/);
    expect(text).toMatch(/k = \d+: best mean silhouette/);
    expect(text).toMatch(/ARI vs ground truth .*: (0\.[89]|1\.0)/);
    expect(loadPersonas(personas).length).toBeGreaterThanOrEqual(5);
    expect(JSON.parse(readFileSync(report, 'utf8')).mining.truth.ari).toBeGreaterThanOrEqual(0.8);
  });

  it('lists rejected rows with their reasons and mines the rest', async () => {
    const data = join(dir, 'mixed.json');
    const good = {
      user_id: 'u1',
      ts: '2025-03-01T00:00:00Z',
      category: 'email',
      intensity: 'weak',
      accepted: true,
    };
    const rows = [
      ...Array.from({ length: 12 }, (_, i) =>
        i % 6 < 3 ? { ...good, user_id: `u${i % 6}` } : { ...good, user_id: `u${i % 6}`, category: 'thesis' },
      ),
      { ...good, accepted: 'no' },
    ];
    writeFileSync(data, JSON.stringify(rows, null, 2));
    const c = capture();
    expect(await runCli(['mine', '--input', data, '--k', '2', '--min-rows', '1'], c.io)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/\(json\): 12 rows, 1 rejected, 6 users/);
    expect(text).toMatch(/rejected line \d+ \(row 13\): accepted: expected boolean/);
    expect(text).toMatch(/k = 2 \(fixed\)/);
  });

  it('exits 2 with the usage on bad arguments, 1 on a failure', async () => {
    for (const argv of [
      [],
      ['frobnicate'],
      ['generate'],
      ['generate', '--out', join(dir, 'x.jsonl'), '--users', 'lots'],
      ['generate', '--out', join(dir, 'x.jsonl'), '--rows-per-user', '9-3'],
      ['mine', '--input', 'x', '--bogus'],
      ['mine', '--input', 'x', '--k', '0'],
      ['mine'],
    ]) {
      const c = capture();
      expect(await runCli(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.err.join('\n')).toContain('usage:');
    }
    const c = capture();
    expect(await runCli(['mine', '--input', join(dir, 'missing.jsonl')], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/ENOENT/);
  });
});
