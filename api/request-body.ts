import type { z } from 'zod';
import { ApiError } from './errors.ts';

function invalid(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  const first = issues[0]!;
  return new ApiError('invalid_request', `${first.path}: ${first.message}`, { status: 400, details: issues });
}

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
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

/** The request's JSON body checked against its schema; a 400 naming the field (or the JSON error) if not. */
export async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const body = await readJson(req);
  const res = schema.safeParse(body);
  if (!res.success) throw invalid(res.error);
  return res.data;
}
