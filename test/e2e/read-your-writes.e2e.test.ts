import { describe, expect, it } from 'vitest';
import { createEmbeddedWheel } from '../../app/embedded-wheel.ts';

/**
 * Read-your-writes against the real (embedded) stream: the wheel runs live, so the join and the
 * profile fold work asynchronously, as in production, and `/recommend` has to wait for them.
 */
describe('read-your-writes on the live embedded wheel', () => {
  it('a /recommend with the as_of of a /select sees the profile that includes it', async () => {
    // A generous bound: the assertion is that the answer waited for the fold, not how fast it was.
    const wheel = await createEmbeddedWheel({
      embeddingDim: 64,
      clusters: 2,
      readYourWrites: { maxWaitMs: 20_000, pollMs: 20 },
    });
    const live = wheel.goLive();
    const post = async (path: string, body: unknown) => {
      const res = await wheel.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      const text = 'Please find the quarterly report attached.';
      let version = 0;
      for (let round = 1; round <= 2; round++) {
        const rec = await post('/recommend', { user_id: 'alice', text });
        expect(rec.status).toBe(200);
        const sid = String(rec.body.recommend_session_id);
        // Live: server-issued ids are random, not the simulation's sequence.
        expect(sid).toMatch(/^rs_[A-Za-z0-9_-]{22}$/);
        const para = await post('/paraphrase', {
          recommend_session_id: sid,
          user_id: 'alice',
          text,
          category: 'report',
          intensity: 'strong',
        });
        expect(para.status).toBe(200);
        const sel = await post('/select', { recommend_session_id: sid, user_id: 'alice', chosen_index: 0 });
        expect(sel.status).toBe(200);
        const after = await post('/recommend', {
          user_id: 'alice',
          text,
          as_of: sel.body.as_of,
          min_profile_version: version + 1,
        });
        expect(after.status).toBe(200);
        expect(after.body.read_your_writes).toMatchObject({ satisfied: true });
        expect(after.body.profile_version).toBeGreaterThanOrEqual(version + 1);
        version = Number(after.body.profile_version);
        const profile = await wheel.app.request('/users/alice/profile');
        const g = (await profile.json()) as {
          version: number;
          options: Record<string, { selected: number }>;
        };
        expect(g.version).toBeGreaterThanOrEqual(version);
        expect(g.options['report:strong']?.selected).toBe(round);
      }
    } finally {
      await live.stop();
    }
  }, 60_000);

  it('waits while the stream has not folded the selection yet, and answers once it has', async () => {
    const wheel = await createEmbeddedWheel({
      embeddingDim: 64,
      clusters: 2,
      readYourWrites: { maxWaitMs: 30_000, pollMs: 10 },
    });
    const post = async (path: string, body: unknown) => {
      const res = await wheel.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const text = 'Please find the quarterly report attached.';
    const rec = await post('/recommend', { user_id: 'bob', text });
    const sid = rec.body.recommend_session_id;
    await post('/paraphrase', {
      recommend_session_id: sid,
      user_id: 'bob',
      text,
      category: 'email',
      intensity: 'weak',
    });
    const sel = await post('/select', { recommend_session_id: sid, user_id: 'bob', chosen_index: 0 });
    // The stream is not running (the wheel runs it in settle()): A, B and C wait in the log.
    const pending = post('/recommend', { user_id: 'bob', text, as_of: sel.body.as_of });
    await new Promise((r) => setTimeout(r, 50));
    expect(await wheel.profiles.getMany(['bob'])).toEqual([null]);
    await wheel.settle();
    const after = await pending;
    expect(after.status).toBe(200);
    expect(after.body.read_your_writes).toEqual({ waited_ms: expect.any(Number), satisfied: true });
    expect(after.body.read_your_writes).not.toMatchObject({ waited_ms: 0 });
    expect(after.body.profile_version).toBe(1);
    expect(after.body.cold_start).toBe(false);
  }, 60_000);
});
