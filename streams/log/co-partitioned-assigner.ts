import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * A kafkajs partition assigner that hands out partition *numbers*: the member that gets partition
 * p gets it on every subscribed topic. A, B and C are keyed alike and co-partitioned, so one
 * member then sees the whole of every session. (kafkajs's default round-robin assigner spreads
 * topic-partitions independently and would split a session's events across members.) Partition
 * numbers are dealt round-robin over the members sorted by id, so every member computes the same.
 */
export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'SentencifyCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const partitionsOf = new Map<string, number[]>();
    const numbers = new Set<number>();
    for (const topic of topics) {
      const ids = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
      partitionsOf.set(topic, ids);
      for (const id of ids) numbers.add(id);
    }
    const owner = new Map<number, string>();
    for (const [i, p] of [...numbers].sort((a, b) => a - b).entries())
      owner.set(p, sorted[i % sorted.length]!);
    return sorted.map((memberId) => {
      const assignment: Record<string, number[]> = {};
      for (const [topic, ids] of partitionsOf) {
        const mine = ids.filter((p) => owner.get(p) === memberId);
        if (mine.length > 0) assignment[topic] = mine;
      }
      return {
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment,
          userData: Buffer.alloc(0),
        }),
      };
    });
  },
  protocol({ topics }) {
    return {
      name: 'SentencifyCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
