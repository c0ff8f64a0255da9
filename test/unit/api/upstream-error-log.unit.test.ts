import { describe, expect, it } from 'vitest';
import { createUpstreamErrorLog } from '../../../api/upstream-error-log.ts';
import { publicErrorKind } from '../../../common/error-kind.ts';

describe('publicErrorKind', () => {
  it('names an error by its code, its errno or its class, never by its message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), { code: 'ECONNREFUSED' });
    expect(publicErrorKind(refused)).toBe('ECONNREFUSED');
    expect(publicErrorKind(new Error('getaddrinfo ENOTFOUND mongo.internal.example'))).toBe('ENOTFOUND');
    expect(publicErrorKind(Object.assign(new Error('x'), { code: 'mongo_unavailable' }))).toBe(
      'mongo_unavailable',
    );
    expect(publicErrorKind(new TypeError('fetch failed for http://10.0.0.9/'))).toBe('TypeError');
    expect(publicErrorKind(new Error('the server at 10.0.0.9 said no'))).toBe('error');
    expect(publicErrorKind('a string')).toBe('error');
    expect(publicErrorKind(null)).toBe('error');
    // A code that is not a plain token (it could carry anything) is not echoed.
    expect(publicErrorKind(Object.assign(new Error('x'), { code: 'http://10.0.0.9:80' }))).toBe('error');
  });
});

describe('createUpstreamErrorLog', () => {
  it('logs a failing dependency with its message at most once per interval, counting the rest', () => {
    let now = 0;
    const lines: [string, Record<string, unknown>][] = [];
    const told = createUpstreamErrorLog(
      (msg, extra) => lines.push([msg, extra]),
      () => now,
      10_000,
    );
    const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), { code: 'ECONNREFUSED' });
    told('profiles', err);
    now = 1_000;
    told('profiles', err);
    told('profiles', err);
    told('vector_index', new Error('timeout'));
    now = 10_500;
    told('profiles', err);
    expect(lines).toEqual([
      [
        'upstream error',
        { what: 'profiles', kind: 'ECONNREFUSED', error: 'connect ECONNREFUSED 10.0.0.7:6379' },
      ],
      ['upstream error', { what: 'vector_index', kind: 'error', error: 'timeout' }],
      [
        'upstream error',
        {
          what: 'profiles',
          kind: 'ECONNREFUSED',
          error: 'connect ECONNREFUSED 10.0.0.7:6379',
          suppressed: 2,
        },
      ],
    ]);
  });
});
