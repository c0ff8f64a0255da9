// Readiness probe used by up.sh: exits 0 when the broker answers a Metadata
// request (kafkajs admin.listTopics), 1 otherwise. KAFKA_BROKERS=host:port.
import { Kafka, logLevel } from 'kafkajs';

const kafka = new Kafka({
  clientId: 'services-ready',
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
try {
  await admin.connect();
  await admin.listTopics();
  await admin.disconnect();
  process.exit(0);
} catch (e) {
  console.error(String(e?.message ?? e));
  process.exit(1);
}
