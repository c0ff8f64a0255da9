/**
 * What an answer may say about a failed dependency: its error code (`ECONNREFUSED`,
 * `mongo_unavailable`, `ETIMEDOUT`) or class name, never its message, which names hosts, ports
 * and paths of the deployment. The message goes to the server's log instead (`onUpstreamError`).
 *
 * @example
 * publicErrorKind(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), { code: 'ECONNREFUSED' })) // 'ECONNREFUSED'
 */
export function publicErrorKind(err: unknown): string {
  const token = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null | undefined;
  if (typeof e?.code === 'string' && token.test(e.code)) return e.code;
  // Node's socket errors name their errno first ("connect ECONNREFUSED 10.0.0.7:6379").
  const errno = typeof e?.message === 'string' ? /\b(E[A-Z]{3,15})\b/.exec(e.message) : null;
  if (errno) return errno[1]!;
  if (typeof e?.name === 'string' && e.name !== 'Error' && token.test(e.name)) return e.name;
  return 'error';
}
