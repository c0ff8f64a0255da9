import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main as evaluateOffline } from '../../simulator/offline/cli.ts';
import { formatComparison } from '../../simulator/offline/compare.ts';
import { writeRunLogs } from '../../simulator/offline/wheel-logs.ts';
import { loadPersonas } from '../../simulator/personas/schema.ts';
import { loadContextPool } from '../../simulator/pools/contexts.ts';
import { runEvaluation } from '../../simulator/run-evaluation.ts';

const dir = mkdtempSync(join(tmpdir(), 'sentencify-offline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('counterfactual evaluation against an online run (embedded wheel)', () => {
  it('estimates β = 0.3 from the default run’s logs, agrees with the online run within the interval, and the CLI says the same', async () => {
    const r = await runEvaluation({
      personas: loadPersonas(),
      contexts: loadContextPool(),
      sessions: 150,
      seed: 7,
      compareBeta: 0.3,
      onLogs: (logs) => writeRunLogs(dir, 'personalised', logs),
    });
    const c = r.offline_vs_online!;
    console.log(formatComparison(c));
    expect(c.logging.beta).toBe(0.55);
    expect(c.target).toEqual({ alpha: 0.2, beta: 0.3, epsilon: 0.05 });
    expect(c.sessions).toEqual({ offline: 150, online: 150 });
    // The change moves the greedy top in some sessions, so the estimate is not the log echoed.
    expect(c.same_top).toBeLessThan(1);
    expect(c.rows.map((x) => x.metric)).toEqual(['hit_at_1', 'acceptance']);
    for (const row of c.rows) {
      expect(row.offline_snips.low).toBeLessThanOrEqual(row.offline_snips.high);
      expect(row.snips_agrees).toBe(
        row.online.estimate >= row.offline_snips.low && row.online.estimate <= row.offline_snips.high,
      );
    }
    expect(c.agree).toBe(true);
    // SNIPS is the headline (see OfflineOnlineComparison.agree); at least its hit@1 row and IPS's hit@1 row agree here.
    expect(c.rows[0]!.ips_agrees).toBe(true);

    // The CLI on the kept logs gives the report's offline numbers.
    const out = join(dir, 'offline.json');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await evaluateOffline(['--logs', dir, '--beta', '0.3', '--out', out]);
    log.mockRestore();
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.sessions).toBe(150);
    expect(json.hitAt1.snips).toEqual(c.rows[0]!.offline_snips);
    expect(json.acceptance.ips).toEqual(c.rows[1]!.offline_ips);
  }, 600_000);
});
