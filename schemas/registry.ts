import { z } from 'zod';
import { deadLetterSchema } from './dead-letter.ts';
import {
  contextRecordSchema,
  corporateRowSchema,
  paraphraseEventSchema,
  recommendEventSchema,
  selectionEventSchema,
} from './events.ts';
import { clusterProfileSchema, trainingExampleSchema, userProfileSchema } from './views.ts';

/** Every schema by its letter-prefixed file name, as exported and as named in schemas/examples/. */
export const SCHEMA_FILES: Record<string, { schema: z.ZodType; title: string }> = {
  'a-recommend': { schema: recommendEventSchema, title: 'Sentencify A: recommend (options shown)' },
  'b-paraphrase': { schema: paraphraseEventSchema, title: 'Sentencify B: paraphrase (LLM executed)' },
  'c-selection': { schema: selectionEventSchema, title: 'Sentencify C: selection (final choice)' },
  'd-corporate-row': { schema: corporateRowSchema, title: 'Sentencify D: corporate raw log row' },
  'e-context-record': { schema: contextRecordSchema, title: 'Sentencify E: context record' },
  'g-user-profile': { schema: userProfileSchema, title: 'Sentencify G: user profile' },
  'h-training-example': { schema: trainingExampleSchema, title: 'Sentencify H: training example' },
  'j-cluster-profile': { schema: clusterProfileSchema, title: 'Sentencify J: cluster profile' },
  'dead-letter': {
    schema: deadLetterSchema,
    title: 'Sentencify dead letter (a record refused, with the reason)',
  },
};

/** The JSON Schema (draft-07, input form, with its title) of one entry of SCHEMA_FILES. */
export function jsonSchemaOf(name: string): Record<string, unknown> {
  const entry = SCHEMA_FILES[name];
  if (!entry) throw new Error(`no schema named ${name}`);
  return { title: entry.title, ...z.toJSONSchema(entry.schema, { io: 'input', target: 'draft-7' }) };
}
