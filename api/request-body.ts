import type { z } from 'zod';
import { ApiError } from './errors.ts';

function invalid(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  const first = issues[0]!;
  return new ApiError('invalid_request', `${first.path}: ${first.message}`, { status: 400, details: issues });
}

/** `application/json`, with at most a UTF-8 charset: the only body the API reads. */
const JSON_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8")[ \t]*)?$/i;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

async function readJson(req: Request): Promise<unknown> {
  // A form or text/plain body is what a web page can send another origin without a preflight.
  const type = req.headers.get('content-type');
  if (type === null || !JSON_TYPE.test(type.trim()))
    throw new ApiError(
      'unsupported_media_type',
      `the body must be sent as Content-Type: application/json${type === null ? '' : `, not ${type.slice(0, 100)}`}`,
      { status: 415 },
    );
  let text: string;
  try {
    text = utf8.decode(await req.arrayBuffer());
  } catch (err) {
    throw new ApiError('invalid_encoding', 'the body is not valid UTF-8', { status: 400, cause: err });
  }
  if (text.trim() === '')
    throw new ApiError('invalid_request', '(body): a JSON object is required', { status: 400 });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`, {
      status: 400,
      cause: err,
    });
  }
}

const invalidText = (path: string) =>
  new ApiError(
    'invalid_unicode',
    `${path || '(body)'}: the text holds a lone surrogate (invalid UTF-16); send well-formed Unicode`,
    { status: 400, details: [{ path: path || '(body)', message: 'lone surrogate (invalid UTF-16)' }] },
  );

/**
 * A path parameter under the same rule as bodies: lone surrogates refused, NFC. The body parser
 * stores every `user_id` in NFC, so `/users/:id` must look the id up in NFC too — an erasure or a
 * profile read of an NFD spelling would otherwise miss the user it names.
 */
export function pathText(raw: string, name: string): string {
  if (LONE_SURROGATE.test(raw)) throw invalidText(name);
  return raw.normalize('NFC');
}

/**
 * Every string of a parsed JSON value, keys included, checked for lone surrogates (JSON's `\ud800`
 * escapes decode to them) and values normalised to NFC in place, so that equal texts compare and
 * embed alike. Iterative: a deeply nested body must not exhaust the stack.
 */
export function normaliseText(value: unknown): unknown {
  const check = (s: string, path: string) => {
    if (LONE_SURROGATE.test(s)) throw invalidText(path);
    return s.normalize('NFC');
  };
  if (typeof value === 'string') return check(value, '');
  const stack: [object, string][] = [];
  if (value !== null && typeof value === 'object') stack.push([value, '']);
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    for (const k of Object.keys(node)) {
      const at = path ? `${path}.${k}` : k;
      check(k, at);
      const v = (node as Record<string, unknown>)[k];
      if (typeof v === 'string') {
        const n = check(v, at);
        // defineProperty: a `__proto__` key of JSON.parse is an own property; `=` would set the prototype.
        if (n !== v)
          Object.defineProperty(node, k, { value: n, writable: true, enumerable: true, configurable: true });
      } else if (v !== null && typeof v === 'object') stack.push([v, at]);
    }
  }
  return value;
}

/**
 * The request's JSON body checked against its schema: 415 unless it is sent as JSON, 400 for
 * invalid UTF-8 or UTF-16, malformed JSON or a field the schema refuses (naming the field). Text
 * is NFC-normalised before the schema sees it, so every route gets the same rules.
 */
export async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const body = normaliseText(await readJson(req));
  const res = schema.safeParse(body);
  if (!res.success) throw invalid(res.error);
  return res.data;
}
