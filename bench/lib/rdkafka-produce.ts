/**
 * The optional librdkafka produce-only bound of join-kafka.ts (`--rdkafka`): the join's captured
 * sends produced through node-rdkafka (librdkafka, C, its own threads) instead of kafkajs, with
 * the same guarantees (acks=all, idempotent, gzip level 1, each partition in order) and every send
 * issued without waiting for the one before — the most a producer on this broker and machine can
 * take. node-rdkafka is not a dependency: bench/peers/build-rdkafka.sh builds it under .cache/.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { LogMessage } from '../../streams/log/event-log.ts';

interface Producer {
  connect(opts: object, cb: (err: unknown) => void): void;
  setPollInterval(ms: number): void;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: string | Buffer | null,
    timestamp: number,
    headers: readonly Record<string, string>[],
    cb: (err: unknown) => void,
  ): void;
  disconnect(cb: () => void): void;
}
interface Binding {
  readonly librdkafkaVersion: string;
  readonly HighLevelProducer: new (conf: Record<string, unknown>) => Producer;
}

const SCRIPT = join(import.meta.dirname, '../peers/build-rdkafka.sh');

/** Builds (once) and loads node-rdkafka, or says why not. */
export function loadRdkafka(): { readonly binding: Binding } | { readonly error: string } {
  let dir: string;
  try {
    dir = execFileSync('bash', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (err) {
    return { error: `build-rdkafka.sh failed: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    return { binding: createRequire(join(dir, 'package.json'))('node-rdkafka') as Binding };
  } catch (err) {
    return { error: `node-rdkafka did not load: ${(err as Error).message}` };
  }
}

/** Produces every send's messages to its destination topic; resolves when all are acknowledged. */
export async function produceAllRdkafka(
  binding: Binding,
  brokers: string,
  sends: readonly { readonly topic: string; readonly messages: readonly LogMessage[] }[],
): Promise<{ readonly ms: number; readonly cpu_s: number; readonly messages: number }> {
  const p = new binding.HighLevelProducer({
    'metadata.broker.list': brokers,
    'enable.idempotence': true,
    acks: -1,
    'compression.codec': 'gzip',
    'compression.level': 1,
    'linger.ms': 5,
    // Large enough that the whole captured output fits in its queue: produce never waits on it.
    'queue.buffering.max.kbytes': 1_048_576,
    'queue.buffering.max.messages': 2_000_000,
  });
  await new Promise<void>((resolve, reject) => p.connect({}, (e) => (e ? reject(e) : resolve())));
  p.setPollInterval(5);
  const one = (topic: string, m: LogMessage) =>
    new Promise<void>((resolve, reject) =>
      p.produce(
        topic,
        null,
        m.value,
        m.key,
        Date.now(),
        m.headers ? Object.entries(m.headers).map(([k, v]) => ({ [k]: v })) : [],
        (e) => (e ? reject(e) : resolve()),
      ),
    );
  // Timed as the kafkajs bound: connected beforehand here, but from the first produce to the last ack.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const acks: Promise<void>[] = [];
  for (const { topic, messages } of sends) for (const m of messages) acks.push(one(topic, m));
  await Promise.all(acks);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  return { ms, cpu_s: (cpu.user + cpu.system) / 1e6, messages: acks.length };
}
