import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  createRetrier,
  DEFAULT_RETRY,
  isRetriable,
  Killed,
} from '../../../../streams/runtime/retry.ts';
import { SinkError } from '../../../../streams/sinks/sink.ts';

describe('retry policy', () => {
  it('backs off exponentially up to the cap, with jitter around each step', () => {
    const p = { baseMs: 100, maxMs: 5_000, jitter: 0.2 };
    expect(backoffMs(p, 1, () => 0.5)).toBe(100);
    expect(backoffMs(p, 2, () => 0.5)).toBe(200);
    expect(backoffMs(p, 4, () => 0.5)).toBe(800);
    expect(backoffMs(p, 30, () => 0.5)).toBe(5_000);
    expect(backoffMs(p, 3, () => 0)).toBeCloseTo(320);
    expect(backoffMs(p, 3, () => 1)).toBeCloseTo(480);
    expect(backoffMs(p, 40, () => 1)).toBe(5_000);
  });

  it('decides by type, never by message: SinkError and any `retriable` flag are honoured, unknown errors retried', () => {
    expect(isRetriable(new SinkError('x', 'partitions, not', { retriable: false }))).toBe(false);
    expect(isRetriable(new SinkError('x', 'fatal', { retriable: true }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('boom'), { retriable: false }))).toBe(false);
    expect(isRetriable(new Error('partitions, not'))).toBe(true);
    expect(isRetriable(new Killed())).toBe(false);
  });

  it('retries a retriable failure until it works, stops at once on a fatal one, and stops all I/O once killed', async () => {
    const slept: number[] = [];
    const r = createRetrier({ policy: DEFAULT_RETRY, sleep: async (ms) => void slept.push(ms) });
    let calls = 0;
    await expect(
      r.io(async () => {
        calls++;
        if (calls < 4) throw new Error('connection refused');
        return 'ok';
      }, 'x'),
    ).resolves.toBe('ok');
    expect(slept).toHaveLength(3);
    await expect(
      r.io(async () => {
        throw new SinkError('bad', 'wrong dimension', { retriable: false });
      }, 'y'),
    ).rejects.toThrow('wrong dimension');
    r.kill();
    await expect(r.io(async () => 1, 'z')).rejects.toBeInstanceOf(Killed);
  });
});
