import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CoPartitionedAssigner } from '../../../../streams/log/co-partitioned-assigner.ts';

const cluster = {
  findTopicPartitionMetadata: (topic: string) =>
    Array.from({ length: topic === 'h' ? 2 : 6 }, (_, partitionId) => ({ partitionId })),
};

async function assign(members: string[], topics: string[]) {
  // biome-ignore lint/suspicious/noExplicitAny: a stand-in for the kafkajs cluster, only what the assigner reads
  const assigner = CoPartitionedAssigner({ cluster: cluster as any, groupId: 'g', logger: {} as any });
  const res = await assigner.assign({
    members: members.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })),
    topics,
  });
  return Object.fromEntries(
    res.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]),
  );
}

describe('CoPartitionedAssigner', () => {
  it('gives each member the same partition numbers on every topic', async () => {
    const a = await assign(['m2', 'm1'], ['a', 'b', 'c']);
    expect(a.m1).toEqual({ a: [0, 2, 4], b: [0, 2, 4], c: [0, 2, 4] });
    expect(a.m2).toEqual({ a: [1, 3, 5], b: [1, 3, 5], c: [1, 3, 5] });
  });

  it('covers every partition exactly once, whatever the member count', async () => {
    for (const n of [1, 2, 3, 4, 7]) {
      const members = Array.from({ length: n }, (_, i) => `m${i}`);
      const a = await assign(members, ['a', 'b']);
      for (const t of ['a', 'b']) {
        const all = Object.values(a).flatMap((x) => x[t] ?? []);
        expect(all.sort()).toEqual([0, 1, 2, 3, 4, 5]);
      }
    }
  });
});
