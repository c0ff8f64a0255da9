/**
 * A uniform number in [0, 1) from a string: FNV-1a over UTF-16 code units, then murmur3's fmix32
 * so that nearby keys ("user-1", "user-2") land far apart. Deterministic across processes.
 */
export function uniformHash(key: string, salt = ''): number {
  const s = `${salt}\u0000${key}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
