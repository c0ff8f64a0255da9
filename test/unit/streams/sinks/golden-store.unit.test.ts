import { describe, expect, it } from 'vitest';
import {
  createMemoryGoldenStore,
  goldenTemplate,
  goldenTemplatePriority,
  mappingProblem,
} from '../../../../streams/stores/golden-store.ts';
import { goldenContract, sampleWrite } from '../../../helpers/golden-contract.ts';

goldenContract('in-memory', async () => createMemoryGoldenStore({ prefix: 'sentencify-golden-unit-' }));

describe('golden template and the strict check', () => {
  it('gives a longer prefix a higher priority, so a test prefix wins over the default template', () => {
    expect(goldenTemplatePriority('sentencify-golden-t1-')).toBeGreaterThan(
      goldenTemplatePriority('sentencify-golden-'),
    );
    const t = goldenTemplate('sentencify-golden-');
    expect(t).toMatchObject({ name: 'sentencify-golden', index_patterns: ['sentencify-golden-*'] });
    expect(t.template.mappings.dynamic).toBe('strict');
  });

  it('reports nested unknown fields and wrong types in ES words', () => {
    const d = sampleWrite('s').doc;
    expect(mappingProblem({ ...d, shown: [{ ...d.shown[0], extra: 1 }] })).toMatch(
      /strict_dynamic_mapping_exception.*\[extra\] within \[shown\]/,
    );
    expect(mappingProblem({ ...d, accepted: 'yes' })).toMatch(
      /failed to parse field \[accepted\] of type \[boolean\]/,
    );
    expect(mappingProblem({ ...d, ts: 'yesterday' })).toMatch(/\[ts\] of type \[date\]/);
    expect(mappingProblem({ ...d, revision: '3' })).toBeNull(); // ES coerces numeric strings
  });
});
