import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../common/random.ts';
import { DEFAULT_VOCABULARY } from '../../../../schemas/index.ts';
import { type ReclusterInput, recluster } from '../../../../streams/clustering/cluster-profiles.ts';
import { createWorkerReclusterer } from '../../../../streams/clustering/worker-reclusterer.ts';
import { emptyProfile } from '../../../../streams/reducers/evolve-profile.ts';

const OPTIONS = ['thesis:strong', 'customer_service:moderate', 'email:light'];

function input(users: number, seed: number): ReclusterInput {
  const rnd = mulberry32(seed);
  const profiles = Array.from({ length: users }, (_, i) => {
    const p = emptyProfile(`u${i}`);
    const taste = OPTIONS[i % OPTIONS.length]!;
    p.sessions = 3;
    p.options[taste] = { selected: 3, accepted: 2 };
    p.embedding = { n: 3, vector: Array.from({ length: 8 }, (_, j) => (j === i % 8 ? 3 : 0) + rnd() * 0.1) };
    return p;
  });
  return {
    profiles,
    k: 3,
    seed: 7,
    vocabulary: DEFAULT_VOCABULARY,
    embeddingDim: 8,
    ts: '2026-01-01T00:00:00.000Z',
    version: 1,
  };
}

/** Nice values of this process's threads (Linux), by thread id. */
function threadNice(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    // stat: pid (comm) state ... — the 19th field is nice; comm may hold spaces, so count after ')'.
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe('createWorkerReclusterer', () => {
  const reclusterer = createWorkerReclusterer();
  afterAll(() => reclusterer.close());

  it('started ahead, gives exactly the in-thread result', async () => {
    reclusterer.start();
    const job = input(120, 3);
    const here = recluster(job);
    const there = await reclusterer(job);
    expect([...there.assignments]).toEqual([...here.assignments]);
    expect(there.clusters).toEqual(here.clusters);
  });

  it.runIf(process.platform === 'linux')(
    'runs k-means on a thread of low priority, the rest of the process keeps its own',
    async () => {
      const before = threadNice();
      await reclusterer(input(30, 4));
      const after = threadNice();
      const lowered = [...after].filter(([, nice]) => nice === 19);
      expect(lowered.length).toBeGreaterThanOrEqual(1);
      expect(after.get(process.pid)).toBe(before.get(process.pid));
      expect(after.get(process.pid)).not.toBe(19);
    },
  );
});
