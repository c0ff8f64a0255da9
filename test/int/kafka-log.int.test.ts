import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createKafkaLog } from '../../streams/log/kafka-log.ts';

const svc = inject('services');

describe.skipIf(!svc.ok)('Kafka log adapter', () => {
  it('sends a backlog larger than the broker takes in one batch (3 MB to one partition), in order', async () => {
    const log = createKafkaLog({ brokers: svc.kafkaBrokers.split(','), clientId: 'test-kafka-log' });
    const topic = `test-big-send-${randomUUID()}`;
    try {
      await log.ensureTopics([{ topic, partitions: 1 }]);
      const messages = Array.from({ length: 3_000 }, (_, i) => ({
        key: 'same-key',
        value: Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(1_000) })),
      }));
      await log.send(topic, messages);
      const admin = await log.admin();
      const [p0] = await admin.fetchTopicOffsets(topic);
      expect(Number(p0!.high)).toBe(3_000);
      const consumer = log.kafka.consumer({ groupId: `g-${randomUUID()}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(JSON.parse(message.value!.toString()).i);
            if (seen.length === 3_000) resolve();
          },
        });
      });
      await consumer.disconnect();
      expect(seen).toEqual(messages.map((_, i) => i));
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await log.close();
    }
  }, 60_000);
});
