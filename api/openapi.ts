import { z } from 'zod';
import { DEFAULT_VOCABULARY, idSchema, type OptionVocabulary } from '../schemas/index.ts';
import { ACCESS_RULES } from './auth/scopes.ts';
import { DEFAULT_TRANSPORT_LIMITS } from './http/transport.ts';
import {
  clustersResponseSchema,
  errorResponseSchema,
  healthResponseSchema,
  paraphraseRequestBodySchema,
  paraphraseResponseSchema,
  profileResponseSchema,
  readyResponseSchema,
  recommendRequestSchema,
  recommendResponseSchema,
  selectRequestSchema,
  selectResponseSchema,
} from './schemas.ts';

type Json = Record<string, unknown>;

/** What `DELETE /users/:id` answers (api/routes/users.ts builds it). */
const erasureAcceptedSchema = z.object({
  erasure_id: z.string(),
  status: z.literal('accepted'),
  requested_at: z.string(),
  /** The API key's name that asked (`open` when the API runs open). */
  requested_by: z.string(),
});

const json = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'openapi-3.0',
    unrepresentable: 'any',
  }) as Json;
  return rest;
};

/** What the server refuses, and why: each code is answered with the JSON error shape. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request: a field the schema refuses, malformed JSON, invalid UTF-8 or a lone surrogate (invalid UTF-16)',
  401: 'missing or unknown API key (`WWW-Authenticate: Bearer`)',
  403: "the key lacks the route's scope, or the session belongs to another user",
  404: 'not found',
  409: 'conflict with the session state',
  413: 'body over 1 MiB',
  414: `path and query over ${DEFAULT_TRANSPORT_LIMITS.maxPathChars} characters`,
  415: 'body not sent as `Content-Type: application/json`',
  422: 'schema-valid but not processable: an Idempotency-Key reused with another body, an as_of token this server did not issue',
  429: 'over the key’s rate limit (`Retry-After` says when to retry)',
  431: 'headers too large',
  502: 'the LLM endpoint failed',
  503: 'a store or the event log is unavailable; retry',
  504: 'the LLM endpoint timed out',
};

const errorResponse = (code: number): Json => ({
  description: ERROR_DESCRIPTIONS[code] ?? 'error',
  ...(code === 429
    ? { headers: { 'Retry-After': { description: 'seconds', schema: { type: 'integer', minimum: 1 } } } }
    : code === 401
      ? { headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } }
      : {}),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The scope an operation needs, read from the one access table (api/auth/scopes.ts). */
function accessOf(method: string, path: string): string {
  const rule = ACCESS_RULES.find(
    (r) => r.path === path && (r.methods === '*' || r.methods.includes(method.toUpperCase())),
  );
  if (!rule) throw new Error(`openapi: ${method} ${path} is not in the access table`);
  return rule.access;
}

/**
 * The schema with property `prop` narrowed to `values` wherever it appears: what zod checks as a
 * pattern the route then checks against the vocabulary, so the document lists what is accepted.
 */
function narrow(schema: Json, prop: string, values: readonly string[]): Json {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'properties' && x && typeof x === 'object' && prop in x) {
        const props = walk(x) as Json;
        out[k] = { ...props, [prop]: { type: 'string', enum: [...values] } };
      } else out[k] = walk(x);
    }
    return out;
  };
  return walk(schema) as Json;
}

interface Op {
  readonly summary: string;
  readonly parameters?: Json[];
  readonly requestBody?: z.ZodType;
  /** Rewrites the request body's JSON schema (the vocabulary's categories). */
  readonly body?: (schema: Json) => Json;
  readonly ok: Json;
  /** Default 200. */
  readonly okStatus?: string;
  /** What the route itself answers besides 200; the transport and auth codes are added here. */
  readonly errors: number[];
  /** Other answers in full (a 503 with its own schema). */
  readonly more?: Record<string, Json>;
}

function operation(method: 'get' | 'post' | 'delete', honoPath: string, op: Op): Json {
  const access = accessOf(method, honoPath);
  const codes = new Set([...op.errors, 414, 431]);
  if (op.requestBody) for (const c of [400, 413, 415]) codes.add(c);
  if (access !== 'open') for (const c of [401, 403]) codes.add(c);
  if (access === 'events') codes.add(429);
  return {
    [method]: {
      summary: op.summary,
      description: access === 'open' ? 'Open: no API key.' : `Needs an API key with the \`${access}\` scope.`,
      security: access === 'open' ? [] : [{ bearer: [] }],
      'x-scope': access,
      ...(op.parameters ? { parameters: op.parameters } : {}),
      ...(op.requestBody
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: (op.body ?? ((x) => x))(json(op.requestBody, 'input')),
                },
              },
            },
          }
        : {}),
      responses: {
        [op.okStatus ?? '200']: op.ok,
        ...Object.fromEntries([...codes].sort().map((c) => [String(c), errorResponse(c)])),
        ...op.more,
      },
    },
  };
}

const ok = (schema: z.ZodType, description = 'ok'): Json => ({
  description,
  content: { 'application/json': { schema: json(schema, 'output') } },
});

const idempotencyKey: Json = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'A retry with the same key and body answers the first answer and emits nothing new.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};

/**
 * The OpenAPI 3.0 document, generated from the same zod schemas that validate the requests and
 * from the same access table the auth middleware reads, so it says what the server accepts.
 */
export function buildOpenApi(vocabulary: OptionVocabulary = DEFAULT_VOCABULARY) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Sentencify recommend API',
      version: '1.0.0',
      description:
        'Ranks rewrite options from the materialised views and records the A → B → C funnel. ' +
        'Bodies are JSON only; text is normalised to NFC and lone surrogates are refused.',
    },
    paths: {
      '/recommend': operation('post', '/recommend', {
        summary: 'Rank rewrite options for a sentence (emits A)',
        requestBody: recommendRequestSchema,
        ok: ok(recommendResponseSchema),
        // 422: an `as_of` that is well-formed but no token /select answered.
        errors: [409, 422, 503],
      }),
      '/paraphrase': operation('post', '/paraphrase', {
        summary: 'Paraphrase with an option or a free style request (emits B)',
        parameters: [idempotencyKey],
        requestBody: paraphraseRequestBodySchema,
        body: (b) => narrow(b, 'category', vocabulary.categories),
        ok: ok(paraphraseResponseSchema),
        errors: [403, 404, 409, 422, 502, 503, 504],
      }),
      '/select': operation('post', '/select', {
        summary: 'Record the final choice (emits C)',
        parameters: [idempotencyKey],
        requestBody: selectRequestSchema,
        ok: ok(selectResponseSchema),
        errors: [403, 404, 409, 422, 503],
      }),
      '/users/{id}': operation('delete', '/users/:id', {
        summary: 'Erase a user everywhere (publishes a user_erasure; the stream removes it from every store)',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: json(idSchema, 'input') },
          {
            name: 'reason',
            in: 'query',
            required: false,
            description: 'Why, for the audit record (no personal data).',
            schema: { type: 'string' },
          },
          idempotencyKey,
        ],
        ok: ok(erasureAcceptedSchema, 'accepted: the erasure is on its way to every store'),
        okStatus: '202',
        errors: [400, 503],
      }),
      '/users/{id}/profile': operation('get', '/users/:id/profile', {
        summary: "A user's profile (G); slim by default",
        parameters: [
          { name: 'id', in: 'path', required: true, schema: json(idSchema, 'input') },
          {
            name: 'view',
            in: 'query',
            required: false,
            schema: { type: 'string', enum: ['slim', 'full'], default: 'slim' },
          },
        ],
        ok: ok(profileResponseSchema),
        errors: [400, 404, 503],
      }),
      '/clusters': operation('get', '/clusters', {
        summary: 'Cluster profiles (J)',
        ok: ok(clustersResponseSchema),
        errors: [503],
      }),
      '/health': operation('get', '/health', {
        summary: 'Liveness',
        ok: ok(healthResponseSchema, 'alive'),
        errors: [],
      }),
      '/ready': operation('get', '/ready', {
        summary: 'Readiness',
        ok: ok(readyResponseSchema, 'ready'),
        errors: [],
        more: { '503': ok(readyResponseSchema, 'not yet') },
      }),
      '/metrics': operation('get', '/metrics', {
        summary: 'Prometheus metrics',
        ok: {
          description: 'text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        errors: [],
      }),
      '/openapi.json': operation('get', '/openapi.json', {
        summary: 'This document',
        ok: { description: 'OpenAPI 3.0', content: { 'application/json': { schema: { type: 'object' } } } },
        errors: [],
      }),
    },
    components: {
      schemas: { Error: json(errorResponseSchema, 'output') },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key from API_KEYS: `Authorization: Bearer <key>`. Scopes: events, profiles, admin.',
        },
      },
    },
  };
}
