import { createHash } from 'node:crypto';

/**
 * Namespace of the point ids: the UUID v5 of the URL `https://sentencify.dev/qdrant/point` under
 * the RFC 4122 URL namespace, written out so that every process, language and version derives the
 * same point from the same session. Changing it orphans every stored point (re-index).
 */
export const POINT_ID_NAMESPACE = 'a7a93d71-132d-5430-a09b-2fb10e8dd910';

/**
 * The Qdrant point id of a recommend session: UUID v5 (SHA-1, RFC 4122 §4.3) of the session id in
 * {@link POINT_ID_NAMESPACE}. Qdrant accepts only unsigned integers and UUIDs as ids; a
 * name-based UUID makes replays and later revisions of a session upsert the same point. Pure.
 *
 * @example
 * pointIdOf('sess-42') // → '709cafb9-c45d-51a3-b586-fd2f565cf32f', in every process
 */
export function pointIdOf(sessionId: string, namespace: string = POINT_ID_NAMESPACE): string {
  return uuidV5(sessionId, namespace);
}

/** RFC 4122 UUID version 5 of `name` (UTF-8) in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  const ns = parseUuid(namespace);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function parseUuid(u: string): Buffer {
  const hex = u.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${u}`);
  return Buffer.from(hex, 'hex');
}
