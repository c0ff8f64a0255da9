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

/**
 * A dependency (LLM endpoint, store) failed; the request may succeed later. `dependency` names it
 * as the degraded answers and the store-error metric do ('sessions', 'profiles', 'events', 'llm',
 * …): the server's log (`ApiDeps.onUpstreamError`) keys its lines by it, so one outage is one
 * line per interval whether a request degraded or failed.
 */
export class UpstreamError extends ApiError {
  constructor(
    code: string,
    message: string,
    readonly dependency: string,
    cause?: unknown,
    status: 502 | 503 | 504 = 502,
  ) {
    super(code, message, { status, retriable: true, cause });
    this.name = 'UpstreamError';
  }
}
