import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approxRecordBytes, splitBySize } from '../../../../streams/log/split-by-size.ts';

const msg = (bytes: number, key: string | null = 'k') => ({ key, value: Buffer.alloc(bytes, 97) });

describe('splitBySize', () => {
  it('keeps order and content, and no run with more than one message goes over the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 200 }),
        fc.integer({ min: 100, max: 20_000 }),
        (sizes, max) => {
          const messages = sizes.map((s, i) => msg(s, `k${i}`));
          const runs = splitBySize(messages, max);
          expect(runs.flat()).toEqual(messages);
          for (const run of runs) {
            expect(run.length).toBeGreaterThan(0);
            const total = run.reduce((n, m) => n + approxRecordBytes(m), 0);
            if (run.length > 1) expect(total).toBeLessThanOrEqual(max);
          }
        },
      ),
    );
  });

  it('splits 3 MB of H into runs under a 900 kB request, and gives an oversized message a run of its own', () => {
    const messages = Array.from({ length: 3_000 }, () => msg(1_000));
    const runs = splitBySize(messages, 900_000);
    expect(runs.length).toBe(4);
    expect(splitBySize([msg(10), msg(2_000_000), msg(10)], 900_000).map((r) => r.length)).toEqual([1, 1, 1]);
    expect(() => splitBySize([], 0)).toThrow(RangeError);
  });
});
