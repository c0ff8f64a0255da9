import { z } from 'zod';
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

const json = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'openapi-3.0',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};

const errors = (codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      {
        description: 'error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );

function post(summary: string, req: z.ZodType, res: z.ZodType, errs: number[]) {
  return {
    post: {
      summary,
      requestBody: { required: true, content: { 'application/json': { schema: json(req, 'input') } } },
      responses: {
        '200': { description: 'ok', content: { 'application/json': { schema: json(res, 'output') } } },
        ...errors(errs),
      },
    },
  };
}

/** The OpenAPI 3.0 document, generated from the same zod schemas that validate the requests. */
export function buildOpenApi() {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Sentencify recommend API',
      version: '1.0.0',
      description: 'Ranks rewrite options from the materialised views and records the A → B → C funnel.',
    },
    paths: {
      '/recommend': post(
        'Rank rewrite options for a sentence (emits A)',
        recommendRequestSchema,
        recommendResponseSchema,
        [400, 413],
      ),
      '/paraphrase': post(
        'Paraphrase with an option or a free style request (emits B)',
        paraphraseRequestBodySchema,
        paraphraseResponseSchema,
        [400, 409, 413, 502, 503, 504],
      ),
      '/select': post(
        'Record the final choice (emits C)',
        selectRequestSchema,
        selectResponseSchema,
        [400, 409, 413, 503],
      ),
      '/users/{id}/profile': {
        get: {
          summary: "A user's profile (G)",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: json(profileResponseSchema, 'output') } },
            },
            ...errors([404, 503]),
          },
        },
      },
      '/clusters': {
        get: {
          summary: 'Cluster profiles (J)',
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: json(clustersResponseSchema, 'output') } },
            },
            ...errors([503]),
          },
        },
      },
      '/health': {
        get: {
          summary: 'Liveness',
          responses: {
            '200': {
              description: 'alive',
              content: { 'application/json': { schema: json(healthResponseSchema, 'output') } },
            },
          },
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness',
          responses: {
            '200': {
              description: 'ready',
              content: { 'application/json': { schema: json(readyResponseSchema, 'output') } },
            },
            '503': {
              description: 'not yet',
              content: { 'application/json': { schema: json(readyResponseSchema, 'output') } },
            },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'text exposition format' } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.0' } } },
      },
    },
    components: { schemas: { Error: json(errorResponseSchema, 'output') } },
  };
}
