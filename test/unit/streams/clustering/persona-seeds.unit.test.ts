import { describe, expect, it } from 'vitest';
import { pickCluster } from '../../../../api/scoring/index.ts';
import { allOptions, DEFAULT_VOCABULARY, optionKey } from '../../../../schemas/index.ts';
import { recluster, userVector } from '../../../../streams/clustering/cluster-profiles.ts';
import { personaOptionShares, personaSeeds } from '../../../../streams/clustering/persona-seeds.ts';
import { emptyProfile } from '../../../../streams/reducers/evolve-profile.ts';

const keys = allOptions(DEFAULT_VOCABULARY).map(optionKey);
const scholar = {
  name: 'Scholar',
  preferred_category: 'thesis',
  preferred_intensity: 'strong',
  domains: { thesis: 0.6, email: 0.4 },
  preferred_by_domain: { email: 'email:strong' },
};
const agent = { name: 'Agent', preferred_category: 'customer_service', preferred_intensity: 'moderate' };

describe('clusters seeded from personas', () => {
  it("spreads a persona's options over its fields, or takes its distribution, or its one option", () => {
    const s = personaOptionShares(scholar, keys);
    expect(s[keys.indexOf('thesis:strong')]).toBeCloseTo(0.6, 12);
    expect(s[keys.indexOf('email:strong')]).toBeCloseTo(0.4, 12);
    const d = personaOptionShares(
      { ...agent, option_distribution: { 'email:weak': 3, 'general:weak': 1 } },
      keys,
    );
    expect(d[keys.indexOf('email:weak')]).toBeCloseTo(0.75, 12);
    expect(personaOptionShares(agent, keys)[keys.indexOf('customer_service:moderate')]).toBe(1);
  });

  it("puts each persona in the users' clustering space, so the nearest seed to a sentence is its writer's", () => {
    const dim = 4;
    const { centroids, clusters } = personaSeeds({
      personas: [scholar, agent],
      meanContexts: [
        [1, 0, 0, 0],
        [0, 0, 2, 0],
      ],
      vocabulary: DEFAULT_VOCABULARY,
      embeddingDim: dim,
      ts: '2026-01-01T00:00:00.000Z',
    });
    expect(centroids.length).toBe(2 * (dim + keys.length));
    expect(clusters.map((c) => c.top_option)).toEqual(['thesis:strong', 'customer_service:moderate']);
    expect(clusters[1]!.centroid.slice(0, dim)).toEqual([0, 0, 1, 0]);
    // a user who writes and chooses like the agent has (nearly) the agent's seed as vector
    const p = emptyProfile('u');
    p.sessions = 3;
    p.options['customer_service:moderate'] = { selected: 3, accepted: 3 };
    p.embedding = { n: 3, vector: [0, 0, 5, 0] };
    const v = userVector(p, { vocabulary: DEFAULT_VOCABULARY, embeddingDim: dim });
    expect(Array.from(v)).toEqual(clusters[1]!.centroid.map((x) => Math.fround(x)));
    expect(pickCluster(null, clusters, [0.1, 0, 0.9, 0])!.cluster_id).toBe(1);
    expect(pickCluster(null, clusters, [0.9, 0.1, 0, 0])!.cluster_id).toBe(0);
    // and K-means seeded with them keeps each persona's cluster id for users like it
    const q = emptyProfile('s');
    q.sessions = 2;
    q.options['thesis:strong'] = { selected: 2, accepted: 2 };
    q.embedding = { n: 2, vector: [3, 0, 0, 0] };
    const r = recluster({
      profiles: [p, q],
      k: 2,
      seed: 1,
      vocabulary: DEFAULT_VOCABULARY,
      embeddingDim: dim,
      ts: '2026-01-01T00:00:00.000Z',
      version: 1,
      initialCentroids: centroids,
    });
    expect(r.assignments.get('u')).toBe(1);
    expect(r.assignments.get('s')).toBe(0);
  });
});
