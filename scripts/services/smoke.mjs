// End-to-end smoke test for scripts/services (run from the project root after up.sh):
//
//   KAFKAJS_NO_PARTITIONER_WARNING=1 node scripts/services/smoke.mjs [--no-restart]
//
// 1. Kafka: create a 3-partition topic, produce 100 messages, consume them with a
//    consumer group, commit offsets WITH a metadata string via consumer.commitOffsets
//    and read them back with admin.fetchOffsets (does the metadata round-trip?).
// 2. Redis: PING / SET / GET with ioredis.
// 3. Restart the broker (graceful, then kill -9) with restart-kafka.sh while the
//    producer and consumer stay connected; show that both recover and that the
//    committed offsets + metadata survived.
// Reads KAFKA_BROKERS / REDIS_URL from the environment or <project>/.services.env.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const envFile = join(root, '.services.env');
if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const doRestart = !process.argv.includes('--no-restart');

const t0 = Date.now();
const ts = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (...a) => console.log(ts(), ...a);
let failures = 0;
const check = (ok, what) => {
  say(ok ? 'OK  ' : 'FAIL', what);
  if (!ok) failures++;
};

// Count kafkajs log lines by level/message so the gotchas are visible.
const logCounts = new Map();
const logCreator =
  () =>
  ({ level, log }) => {
    if (level > logLevel.WARN) return;
    const key = `${level === logLevel.ERROR ? 'ERROR' : 'WARN'} ${log.message}`;
    logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
  };

const kafka = new Kafka({
  clientId: 'sentencify-smoke',
  brokers,
  logLevel: logLevel.WARN,
  logCreator,
  connectionTimeout: 3000,
  // generous retries so clients ride out a broker restart
  retry: { initialRetryTime: 300, retries: 12, maxRetryTime: 5000 },
});

const topic = `smoke-${Date.now()}`;
const groupId = `${topic}-group`;
const admin = kafka.admin();
const producer = kafka.producer({ allowAutoTopicCreation: false });
const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });

const seen = new Set();
const lastOffset = new Map(); // partition -> last consumed offset
let waiter = null;
const waitFor = (n, ms) =>
  new Promise((resolve, reject) => {
    if (seen.size >= n) return resolve();
    const timer = setTimeout(() => reject(new Error(`timeout: ${seen.size}/${n} consumed`)), ms);
    waiter = {
      n,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
    };
  });

async function produce(from, count) {
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` }));
  await producer.send({ topic, messages });
}

async function commitWithMetadata(tag) {
  const offsets = [...lastOffset].map(([partition, off]) => ({
    topic,
    partition,
    offset: String(Number(off) + 1),
    metadata: `${tag}:p${partition}`,
  }));
  await consumer.commitOffsets(offsets);
  const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const parts = res.partitions.sort((a, b) => a.partition - b.partition);
  say(`fetchOffsets after commit "${tag}":`, JSON.stringify(parts));
  return parts.every(
    (p) =>
      p.metadata === `${tag}:p${p.partition}` && Number(p.offset) === Number(lastOffset.get(p.partition)) + 1,
  );
}

function restartKafka(args) {
  const start = Date.now();
  const out = execFileSync(join(here, 'restart-kafka.sh'), args, { encoding: 'utf8' });
  for (const l of out.trim().split('\n')) say(`  | ${l}`);
  return Date.now() - start;
}

try {
  // ---------------------------------------------------------------- Redis --
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  check((await redis.ping()) === 'PONG', `redis PING at ${redisUrl}`);
  await redis.set('smoke:key', 'hello', 'EX', 60);
  check((await redis.get('smoke:key')) === 'hello', 'redis SET/GET');
  redis.disconnect();

  // ---------------------------------------------------------------- Kafka --
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  check(created, `created topic ${topic} with 3 partitions`);
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  check(meta.topics[0].partitions.length === 3, 'topic metadata shows 3 partitions');

  await producer.connect();
  let tp = Date.now();
  await produce(0, 100);
  say(`produced 100 messages in ${Date.now() - tp} ms`);

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  tp = Date.now();
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      seen.add(message.value.toString());
      lastOffset.set(partition, message.offset);
      if (waiter && seen.size >= waiter.n) waiter.resolve();
    },
  });
  await waitFor(100, 30000);
  check(
    seen.size === 100,
    `consumed 100 messages via group ${groupId} in ${Date.now() - tp} ms (incl. join)`,
  );
  check(lastOffset.size === 3, `messages spread over ${lastOffset.size} partitions`);

  check(
    await commitWithMetadata('first'),
    'consumer.commitOffsets metadata round-trips through admin.fetchOffsets',
  );

  if (doRestart) {
    for (const [mode, args] of [
      ['graceful (SIGTERM)', []],
      ['crash (kill -9)', ['--kill']],
    ]) {
      say(`--- restarting kafka: ${mode}`);
      const ms = restartKafka(args);
      say(`restart-kafka.sh took ${ms} ms`);
      const before = seen.size;
      tp = Date.now();
      await produce(before, 50);
      say(`producer recovered: sent 50 more in ${Date.now() - tp} ms`);
      await waitFor(before + 50, 60000);
      check(
        seen.size === before + 50,
        `consumer recovered: ${seen.size} unique consumed, ${Date.now() - tp} ms after send started`,
      );
      const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
      say(
        'committed offsets survived restart:',
        JSON.stringify(
          res.partitions.map(({ partition, offset, metadata }) => ({ partition, offset, metadata })),
        ),
      );
      check(await commitWithMetadata(mode.split(' ')[0]), `commit with metadata after ${mode}`);
    }
  }

  // Gotcha check: consumer.commitOffsets only works while the consumer runs.
  tp = Date.now();
  await consumer.stop();
  say(
    `consumer.stop() took ${Date.now() - tp} ms (waits for the in-flight fetch: maxWaitTimeInMs, default 5000)`,
  );
  let threw = null;
  await consumer.commitOffsets([{ topic, partition: 0, offset: '0', metadata: 'after-stop' }]).catch((e) => {
    threw = e.message;
  });
  const [after] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const p0 = after.partitions.find((p) => p.partition === 0);
  say(
    `commitOffsets after consumer.stop(): ${threw ? `threw "${threw}"` : 'no error'}; partition 0 still offset=${p0.offset} metadata=${p0.metadata}`,
  );

  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
} catch (e) {
  failures++;
  say('FAIL', e.stack ?? e);
}

if (logCounts.size) {
  say('kafkajs warnings/errors seen:');
  for (const [k, n] of logCounts) say(`  ${n}× ${k}`);
}
say(failures ? `${failures} failure(s)` : 'all checks passed');
process.exit(failures ? 1 : 0);
