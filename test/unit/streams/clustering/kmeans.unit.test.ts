import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../common/random.ts';
import { adjustedRandIndex, kmeans } from '../../../../streams/clustering/kmeans.ts';

/** n points around each of `k` random centres in `dim` dimensions, with Gaussian noise. */
function planted(k: number, perCluster: number, dim: number, noise: number, seed: number) {
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const centres = Array.from({ length: k }, () => Array.from({ length: dim }, () => rnd() * 10 - 5));
  const n = k * perCluster;
  const data = new Float32Array(n * dim);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels.push(c);
    for (let j = 0; j < dim; j++) data[i * dim + j] = centres[c]![j]! + gauss() * noise;
  }
  return { data, labels, n, centres };
}

describe('kmeans', () => {
  it('recovers well-separated planted clusters (ARI >= 0.9)', () => {
    for (const seed of [1, 2, 3]) {
      const { data, labels, n } = planted(6, 150, 24, 0.8, seed);
      const res = kmeans({ data, n, dim: 24, k: 6, seed, batchSize: 256, iterations: 60 });
      expect(adjustedRandIndex(res.assignments, labels)).toBeGreaterThanOrEqual(0.9);
      expect([...res.sizes].reduce((a, b) => a + b, 0)).toBe(n);
    }
  });

  it('is deterministic for a seed', () => {
    const { data, n } = planted(5, 100, 16, 1.5, 9);
    const a = kmeans({ data, n, dim: 16, k: 5, seed: 42 });
    const b = kmeans({ data, n, dim: 16, k: 5, seed: 42 });
    expect([...a.assignments]).toEqual([...b.assignments]);
    expect([...a.centroids]).toEqual([...b.centroids]);
    expect(a.inertia).toBe(b.inertia);
  });

  it('starts from supplied centroids and keeps their order', () => {
    const { data, labels, n, centres } = planted(4, 80, 8, 0.5, 5);
    const init = Float32Array.from(centres.flat());
    const res = kmeans({ data, n, dim: 8, k: 4, initialCentroids: init, iterations: 20 });
    // cluster i is the one planted around centre i
    expect([...res.assignments]).toEqual(labels);
  });

  it('copes with k larger than n and rejects bad input', () => {
    const res = kmeans({ data: new Float32Array([0, 0, 1, 1]), n: 2, dim: 2, k: 5, seed: 1 });
    expect(res.k).toBe(2);
    expect(() => kmeans({ data: new Float32Array(3), n: 2, dim: 2, k: 1 })).toThrow(/expected 4/);
  });

  it('computes the adjusted Rand index', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [5, 5, 7, 7])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1])).toBeLessThan(0.1);
  });
});
