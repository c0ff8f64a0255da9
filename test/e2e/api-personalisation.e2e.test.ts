import { describe, expect, it } from 'vitest';
import { pickCluster, rescore } from '../../api/scoring/index.ts';
import type { RankedOption, RecommendEvent } from '../../schemas/index.ts';
import { DEFAULT_VOCABULARY } from '../../schemas/index.ts';
import { apiHarness, session } from '../helpers/api-harness.ts';

const top = (b: Record<string, unknown>) => {
  const o = (b.options as RankedOption[])[0]!;
  return { key: `${o.category}:${o.intensity}`, reason: o.reason ?? '' };
};

const TEXTS = [
  'Please review the attached draft before Friday.',
  'The experiment confirms the proposed hypothesis.',
  'Our spring collection arrives next week.',
  'Thank you for contacting our support team.',
];

describe('/recommend learns from the materialised views', () => {
  it('ranks a user’s habitual option first and says why; a new user gets their cluster’s favourite', async () => {
    const h = await apiHarness();
    const tastes: Record<string, { category: string; intensity: string }> = {
      alice: { category: 'thesis', intensity: 'strong' },
      bob: { category: 'marketing', intensity: 'strong' },
      carol: { category: 'customer_service', intensity: 'moderate' },
      dave: { category: 'thesis', intensity: 'strong' },
      erin: { category: 'marketing', intensity: 'strong' },
      // Frank writes the same kind of sentences as Bob and Erin but always wants email · weak.
      frank: { category: 'email', intensity: 'weak' },
    };
    // Each user writes about their own topic, always with their own option.
    const topic: Record<string, string> = {
      alice: TEXTS[1]!,
      bob: TEXTS[2]!,
      carol: TEXTS[3]!,
      dave: TEXTS[1]!,
      erin: TEXTS[2]!,
      frank: TEXTS[2]!,
    };
    for (let round = 0; round < 8; round++) {
      for (const [user, option] of Object.entries(tastes))
        await session(h, user, `${topic[user]} (${round})`, option);
    }
    await h.fold();

    // On a marketing sentence, where similar contexts say marketing · strong, Frank still gets his
    // own habit first, and the reason names his history.
    const f = await h.post('/recommend', {
      user_id: 'frank',
      text: 'Our spring collection arrives next week!',
    });
    expect(f.body.cold_start).toBe(false);
    expect(top(f.body).key).toBe('email:weak');
    expect(top(f.body).reason).toMatch(/you chose email · weak in 8 of your 8 sessions/);
    expect(f.body.profile_version).toBe(8);
    const b = await h.post('/recommend', {
      user_id: 'bob',
      text: 'Our spring collection arrives next week!',
    });
    expect(top(b.body).key).toBe('marketing:strong');

    // A brand-new user writing like Alice and Dave gets their cluster's favourite, and the reason
    // names the cluster.
    const n = await h.post('/recommend', {
      user_id: 'newcomer',
      text: 'The experiment confirms the proposed hypothesis!',
    });
    expect(n.body.cold_start).toBe(true);
    expect(n.body.cluster_id).not.toBeNull();
    expect(top(n.body).key).toBe('thesis:strong');
    expect(top(n.body).reason).toMatch(/users like you \(cluster \d+\) mostly pick thesis · strong/);

    const clusters = await h.get('/clusters');
    expect((clusters.body as { clusters: unknown[] }).clusters.length).toBeGreaterThanOrEqual(2);
    const profile = await h.get('/users/alice/profile');
    expect(profile.status).toBe(200);
    expect(
      (profile.body as { options: Record<string, { selected: number }> }).options['thesis:strong']!.selected,
    ).toBe(8);
  });

  it('re-scores logged A events exactly from what the scorer read', async () => {
    const h = await apiHarness({ scoring: { epsilon: 0.3 } });
    for (let i = 0; i < 6; i++)
      await session(h, `u${i % 3}`, TEXTS[i % 4]!, { category: 'email', intensity: 'moderate' });
    await h.fold();
    for (let i = 0; i < 12; i++) {
      await h.post('/recommend', {
        user_id: `u${i % 4}`,
        text: TEXTS[i % 4]!,
        doc_id: `doc-u${i % 4}`,
        doc_field: 'email',
      });
    }
    const logged = (h.events(h.topics.recommend) as RecommendEvent[]).filter(
      (a) => a.context.doc_field === 'email',
    );
    expect(logged).toHaveLength(12);
    const clusters = await h.clusters.clusters();
    let explored = 0;
    for (const a of logged) {
      const [profile] = await h.profiles.getMany([a.user_id]);
      const [cid] = await h.clusters.clusterOf([a.user_id]);
      const p = profile ? { ...profile, cluster_id: cid ?? null } : null;
      const [embedding] = await h.embedder.embed([a.context.text]);
      const report = rescore(a, {
        vocabulary: DEFAULT_VOCABULARY,
        neighbours: a.inputs!.neighbours.map((n) => ({
          score: n.score,
          payload: { option_key: n.option_key, language: n.language },
        })),
        doc: { field: a.context.doc_field ?? null, history: a.inputs!.doc_history },
        profile: p,
        embedding: embedding!,
        cluster: pickCluster(p, clusters, embedding!),
      });
      expect(report.differences).toEqual([]);
      expect(report.matches).toBe(true);
      if (a.explored) explored++;
    }
    // ε = 0.3: some sessions were explored, and their propensities were logged.
    expect(explored).toBeGreaterThan(0);
    for (const a of logged) expect(a.options.reduce((s, o) => s + o.propensity, 0)).toBeCloseTo(1, 9);
  });
});
