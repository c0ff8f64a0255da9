/**
 * Probe: the cost of producing H-sized messages through createKafkaLog's send (acks=all,
 * idempotent), with and without compression, alternating in one process.
 *   npx tsx bench/lib/produce-probe.ts [--n 20000] [--per-send 500]
 */
import { parseArgs, promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import kafkajs from 'kafkajs';

const { CompressionCodecs, CompressionTypes } = kafkajs;

import h from '../../schemas/examples/h-training-example.json' with { type: 'json' };
import { createKafkaLog } from '../../streams/log/kafka-log.ts';
import { requireServices } from './common.ts';

const { values: a } = parseArgs({
  options: { n: { type: 'string' }, 'per-send': { type: 'string' }, rounds: { type: 'string' } },
});
const n = Number(a.n ?? 20000);
const per = Number(a['per-send'] ?? 500);
const svc = await requireServices();
if ('missing' in svc) throw new Error(svc.missing);
const msgs = Array.from({ length: n }, (_, i) => ({
  key: `user-${i % 1000}`,
  value: Buffer.from(JSON.stringify({ ...h, recommend_session_id: `rs-${i}`, event_id: `h-${i}` })),
}));
console.log(`message ${msgs[0]!.value.length} bytes`);
const modes = ['none', 'gzip', 'gzip1'] as const;
const defaultGzip = CompressionCodecs[CompressionTypes.GZIP];
const gz = promisify(gzip);
const unz = promisify(unzip);
const gzip1 = () => ({
  compress: (e: { buffer: Buffer }) => gz(e.buffer, { level: 1 }),
  decompress: (b: Buffer) => unz(b),
});
for (let round = 0; round < Number(a.rounds ?? 2); round++)
  for (const mode of modes) {
    (CompressionCodecs as Record<number, unknown>)[CompressionTypes.GZIP] =
      mode === 'gzip1' ? gzip1 : defaultGzip;
    const log = createKafkaLog({
      brokers: svc.kafkaBrokers.split(','),
      compression: mode === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
    } as Parameters<typeof createKafkaLog>[0]);
    const topic = `probe-${process.pid}-${mode}-${round}`;
    await log.ensureTopics([{ topic, partitions: 6 }]);
    await log.send(topic, msgs.slice(0, 10));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let chain = Promise.resolve();
    for (let i = 0; i < n; i += per) {
      const part = msgs.slice(i, i + per);
      chain = chain.then(() => log.send(topic, part));
    }
    await chain;
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    console.log(
      `${mode}: ${Math.round(n / s)} msgs/s, ${((n * msgs[0]!.value.length) / s / 1e6).toFixed(1)} MB/s, cpu ${((cpu.user + cpu.system) / n).toFixed(1)} µs/msg`,
    );
    const adm = await log.admin();
    await adm.deleteTopics({ topics: [topic] }).catch(() => {});
    await log.close();
  }
