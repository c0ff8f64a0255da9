import { describe, expect, it } from 'vitest';
import type { DashboardPanels } from '../../../../analytics/kpis-panels.ts';
import { apiHarness, session } from '../../../helpers/api-harness.ts';

describe('/dashboard and /api/dashboard', () => {
  it('serves every panel from the views, folded from H by the kpis sink', async () => {
    const h = await apiHarness();
    await session(h, 'u1', 'Please review the attached draft.', { category: 'email', intensity: 'moderate' });
    await h.fold();
    const res = await h.app.request('/api/dashboard');
    expect(res.status).toBe(200);
    const p = (await res.json()) as DashboardPanels;
    expect(p.mode).toBe('embedded');
    expect(p.assets.h.sessions).toBe(1);
    expect(p.assets.profiles).toBe(await h.profiles.count());
    expect(p.assets.events_per_topic?.[h.topics.recommend]).toBe(1);
    expect(p.personalisation.sessions).toBe(1);
    expect(p.ab.variants.find((v) => v.variant === 'A')?.sessions).toBe(1);
  });

  it('reprices the A/B panel from the query and refuses a bad price', async () => {
    const h = await apiHarness();
    const ok = (await (await h.app.request('/api/dashboard?prompt_per_1k=2')).json()) as DashboardPanels;
    expect(ok.ab.price).toMatchObject({ promptPer1k: 2, completionPer1k: 0.0006 });
    const bad = await h.app.request('/api/dashboard?completion_per_1k=-1');
    expect(bad.status).toBe(400);
  });

  it('serves the built page and its assets, and 404 for anything else under /dashboard', async () => {
    const h = await apiHarness();
    const page = await h.app.request('/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/dashboard/app.js');
    const js = await h.app.request('/dashboard/app.js');
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await h.app.request('/dashboard/app.css')).status).toBe(200);
    expect((await h.app.request('/dashboard/secrets.txt')).status).toBe(404);
  });

  it("answers 404, not 500, for names on an object's prototype", async () => {
    const h = await apiHarness();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await h.app.request(`/dashboard/${name}`);
      expect(res.status, name).toBe(404);
    }
  });
});
