/** Errors that cross the API boundary carry a code, whether a retry can help, and their cause. */
export class ApiError extends Error {
  readonly code: string;
  readonly status:
    | 400
    | 401
    | 403
    | 404
    | 405
    | 409
    | 413
    | 414
    | 415
    | 422
    | 429
    | 431
    | 500
    | 502
    | 503
    | 504;
  readonly retriable: boolean;
  readonly details?: unknown;
  /** Headers the answer must carry (`WWW-Authenticate`, `Retry-After`, `Allow`). */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    code: string,
    message: string,
    opts: {
      status: ApiError['status'];
      retriable?: boolean;
      cause?: unknown;
      details?: unknown;
      headers?: Readonly<Record<string, string>>;
    },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = opts.status;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details;
    this.headers = opts.headers;
  }
}

/** A dependency (LLM endpoint, store) failed; the request may succeed later. */
export class UpstreamError extends ApiError {
  constructor(code: string, message: string, cause?: unknown, status: 502 | 503 | 504 = 502) {
    super(code, message, { status, retriable: true, cause });
    this.name = 'UpstreamError';
  }
}

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
