import type { LogMessage } from './event-log.ts';

/**
 * Bytes a message takes in a Kafka record batch, roughly: key, value, header names and values, and
 * a generous allowance for the varint lengths, offsets and timestamps of a record.
 */
export function approxRecordBytes(m: LogMessage): number {
  let n = 64 + m.value.length + (m.key === null ? 0 : Buffer.byteLength(m.key));
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += 8 + k.length + Buffer.byteLength(v);
  return n;
}

/**
 * Splits messages, in order, into runs of at most `maxBytes` (by `approxRecordBytes`), so that no
 * produce request carries a record batch the broker refuses (`message.max.bytes`, 1 MiB by
 * default, applies to a whole batch per partition). A single message over the limit gets a run of
 * its own: the broker then refuses that one with its own error instead of the whole request.
 *
 * @example
 * for (const run of splitBySize(messages, 900_000)) await producer.send({ topic, messages: run });
 */
export function splitBySize(messages: readonly LogMessage[], maxBytes: number): LogMessage[][] {
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  const runs: LogMessage[][] = [];
  let run: LogMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const b = approxRecordBytes(m);
    if (run.length > 0 && bytes + b > maxBytes) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(m);
    bytes += b;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
