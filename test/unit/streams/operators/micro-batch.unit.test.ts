import { range } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { microBatch } from '../../../../streams/operators/micro-batch.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('microBatch', () => {
  it('splits 150 messages into one batch of 100 and one of 50 (the seeds own test)', () => {
    const sizes: number[] = [];
    range(0, 150)
      .pipe(microBatch({ size: 100, maxWaitMs: 1000 }))
      .subscribe((b) => sizes.push(b.length));
    expect(sizes).toEqual([100, 50]);
  });

  it('emits a full batch at once and flushes a partial one after maxWaitMs', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('abc 10ms d 100ms e|');
      // a,b,c (frames 0-2) fill a batch of 3; d (frame 13) waits 50 ms; completion flushes e.
      const expected = '2ms x 60ms y 51ms (z|)';
      expectObservable(src.pipe(microBatch({ size: 3, maxWaitMs: 50 }))).toBe(expected, {
        x: ['a', 'b', 'c'],
        y: ['d'],
        z: ['e'],
      });
    });
  });

  it('starts the wait at the first item of a batch, not at the previous flush', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 99ms b 9ms c 100ms |');
      expectObservable(src.pipe(microBatch({ size: 10, maxWaitMs: 20 }))).toBe('20ms x 79ms 20ms y 90ms |', {
        x: ['a'],
        y: ['b', 'c'],
      });
    });
  });

  it('never emits an empty batch', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('500ms |').pipe(microBatch({ size: 5, maxWaitMs: 10 }))).toBe('500ms |');
    });
  });

  it('rejects nonsense options', () => {
    expect(() => microBatch({ size: 0, maxWaitMs: 10 })).toThrow(/size/);
  });
});
