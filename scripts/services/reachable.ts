import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';

/** Where the tests and benchmarks find Kafka and Redis. */
export interface ServiceUrls {
  /** Comma-separated broker list. */
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
}

/**
 * Resolves to null when both Redis and Kafka answer, else to the reason, for the integration
 * tests' and the benchmarks' "skip, or fail under CI, with a clear message".
 *
 * @example
 * const why = await unreachable({ kafkaBrokers: '127.0.0.1:19092', redisUrl: 'redis://127.0.0.1:16379' });
 */
export async function unreachable(s: ServiceUrls, opts: { retries?: number } = {}): Promise<string | null> {
  const redis = new Redis(s.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    return `Redis at ${s.redisUrl} did not answer: ${(err as Error).message}`;
  } finally {
    redis.disconnect();
  }
  const admin = new Kafka({
    brokers: s.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: opts.retries ?? 2 },
    connectionTimeout: 2000,
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    return `Kafka at ${s.kafkaBrokers} did not answer: ${(err as Error).message}`;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  return null;
}
