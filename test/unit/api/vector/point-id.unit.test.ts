import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { POINT_ID_NAMESPACE, pointIdOf, uuidV5 } from '../../../../api/vector/point-id.ts';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('pointIdOf', () => {
  it('matches RFC 4122 v5 as other implementations compute it', () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'), the usual reference vector.
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
    // The namespace is itself the v5 of a URL, so it can be re-derived anywhere.
    expect(uuidV5('https://sentencify.dev/qdrant/point', '6ba7b811-9dad-11d1-80b4-00c04fd430c8')).toBe(
      POINT_ID_NAMESPACE,
    );
    // Python's uuid.uuid5(UUID(POINT_ID_NAMESPACE), …): the ids other services must derive.
    expect(pointIdOf('sess-42')).toBe('709cafb9-c45d-51a3-b586-fd2f565cf32f');
    expect(pointIdOf('세션-한국어')).toBe('42786c9b-75f7-59ff-bb47-1558b4794ec5');
  });

  it('is deterministic, a v5 UUID, and distinct for distinct sessions', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(pointIdOf(a)).toBe(pointIdOf(a));
        expect(pointIdOf(a)).toMatch(UUID_V5);
        if (a !== b) expect(pointIdOf(a)).not.toBe(pointIdOf(b));
      }),
    );
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(TypeError);
  });
});
