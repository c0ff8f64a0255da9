import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  clustersResponseSchema,
  errorResponseSchema,
  healthResponseSchema,
  paraphraseResponseSchema,
  profileResponseSchema,
  readyResponseSchema,
  recommendResponseSchema,
  selectResponseSchema,
} from '../../../api/schemas.ts';
import { apiHarness, session } from '../../helpers/api-harness.ts';

/** Strictly: a field the handler sends but the schema (and so the OpenAPI document) omits fails. */
const exactly = (schema: z.ZodObject, body: unknown) => expect(schema.strict().parse(body)).toEqual(body);

describe('response schemas', () => {
  it('describe exactly what every endpoint answers', async () => {
    const h = await apiHarness();
    const rec = await h.post('/recommend', { user_id: 'u1', text: 'We will ship it next week.' });
    exactly(recommendResponseSchema, rec.body);
    expect(rec.body.vector_index).toBe(h.index.backend);
    const sid = rec.body.recommend_session_id;
    const para = await h.post('/paraphrase', {
      recommend_session_id: sid,
      user_id: 'u1',
      text: 'We will ship it next week.',
      category: 'email',
      intensity: 'strong',
    });
    exactly(paraphraseResponseSchema, para.body);
    const sel = await h.post('/select', { recommend_session_id: sid, user_id: 'u1', chosen_index: 0 });
    exactly(selectResponseSchema, sel.body);
    exactly(errorResponseSchema, (await h.post('/select', { user_id: 'u1' })).body);

    await session(h, 'u2', 'Please find the report attached.', { category: 'report', intensity: 'weak' });
    await h.fold();
    const profile = await h.get('/users/u2/profile');
    expect(profile.status).toBe(200);
    expect(profileResponseSchema.parse(profile.body)).toMatchObject({ user_id: 'u2' });
    exactly(clustersResponseSchema, (await h.get('/clusters')).body);
    exactly(healthResponseSchema, (await h.get('/health')).body);
    expect(readyResponseSchema.parse((await h.get('/ready')).body).ready).toBe(true);
  });

  it('the /recommend schema requires the vector index', () => {
    const ok = recommendResponseSchema.shape.vector_index.safeParse('memory');
    expect(ok.success).toBe(true);
    expect(recommendResponseSchema.shape.vector_index.safeParse(undefined).success).toBe(false);
  });
});
