import { describe, expect, it } from 'vitest';
import { createEmbeddedWheel } from '../../app/embedded-wheel.ts';

describe('npm start serves the topology’s metrics and readiness', () => {
  it('lists the join, dead-letter and per-sink series on /metrics, and each sink on /ready, once live', async () => {
    const wheel = await createEmbeddedWheel({ seed: 3 });
    const live = wheel.goLive();
    try {
      const r = await wheel.app.request('/recommend', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'u1', text: 'Please review the attached draft.' }),
      });
      expect(r.status).toBe(200);
      const deadline = Date.now() + 10_000;
      let text = '';
      while (Date.now() < deadline) {
        text = await (await wheel.app.request('/metrics')).text();
        if (/^sentencify_join_records_total [1-9]/m.test(text)) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(text).toMatch(/^sentencify_join_records_total [1-9]\d*$/m);
      expect(text).toMatch(/^sentencify_dead_letters_total\{code="malformed_json"\} 0$/m);
      expect(text).toMatch(/^sentencify_sink_lag_records\{sink="profiles"\} \d+$/m);
      expect(text).toMatch(/^sentencify_sink_lag_records\{sink="index"\} \d+$/m);
      expect(text).toMatch(
        /^sentencify_http_requests_total\{method="POST",route="\/recommend",status="200"\} 1$/m,
      );
      const ready = (await (await wheel.app.request('/ready')).json()) as Record<string, unknown>;
      expect(ready).toMatchObject({
        ready: true,
        sinks: { profiles: { status: 'running' }, index: { status: 'running' } },
      });
    } finally {
      await live.stop();
    }
  });
});
