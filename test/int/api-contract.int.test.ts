import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The OpenAPI contract: scripts/schemathesis.sh (schemathesis from PyPI in a cached venv, --checks
// all against the embedded API with a key of every scope). It runs here, inside the integration
// tier, so a contract failure fails `npm run test:int` like any other test; its report stays in the
// test (and in the failure message when it fails) rather than in the CI log.
const ROOT = join(import.meta.dirname, '../..');
// First run installs schemathesis into .cache/ (~30 s); the run itself is ~40 s to ~2 min.
const TIMEOUT_MS = 900_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

function runContract(): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/schemathesis.sh'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

/** schemathesis' "Test cases:" line: `N generated, N passed[, N failed][, N skipped]`. */
function caseCounts(output: string): Readonly<Record<string, number>> | null {
  const line = /Test cases:\s*\n\s*([^\n]+)/.exec(output)?.[1];
  if (!line) return null;
  const counts: Record<string, number> = {};
  for (const m of line.matchAll(/(\d+) ([a-z]+)/g)) counts[m[2] as string] = Number(m[1]);
  return counts;
}

describe('the OpenAPI contract (schemathesis --checks all against the embedded API)', () => {
  it(
    'every generated case passes every check, in every phase, on every operation',
    async () => {
      const run = await runContract();
      const tail = run.output.split('\n').slice(-80).join('\n');
      expect(run.code, `schemathesis.sh exited ${run.code ?? run.signal}:\n${tail}`).toBe(0);
      const counts = caseCounts(run.output);
      expect(counts, `no "Test cases:" summary in:\n${tail}`).not.toBeNull();
      expect(counts?.failed ?? 0, tail).toBe(0);
      expect(counts?.errored ?? 0, tail).toBe(0);
      expect(counts?.passed ?? 0, tail).toBeGreaterThan(0);
      expect(counts?.passed, tail).toBe(counts?.generated);
      const selected = /Selected: (\d+)\/(\d+)/.exec(run.output);
      const tested = /Tested: (\d+)/.exec(run.output);
      expect(selected, tail).not.toBeNull();
      expect(Number(tested?.[1]), tail).toBe(Number(selected?.[2]));
      for (const phase of ['Coverage', 'Fuzzing', 'Stateful']) {
        expect(run.output, `phase ${phase} did not pass:\n${tail}`).toMatch(new RegExp(`✅ ${phase}`));
      }
      console.log(
        `schemathesis: ${counts?.passed} of ${counts?.generated} cases passed on ${tested?.[1]} operations`,
      );
    },
    TIMEOUT_MS,
  );
});
