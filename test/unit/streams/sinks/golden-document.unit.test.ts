import { describe, expect, it } from 'vitest';
import { goldenDocument, goldenWrite, indexDay } from '../../../../streams/sinks/golden-document.ts';
import { GOLDEN_MAPPINGS, mappedFields, mappingProblem } from '../../../../streams/stores/golden-store.ts';
import { sampleExample } from '../../../helpers/golden-contract.ts';

describe('goldenDocument (H → dashboard document)', () => {
  it('flattens the sample H with its own field names and the derived ones', () => {
    const d = goldenDocument(sampleExample('rs-1'));
    expect(d).toMatchObject({
      recommend_session_id: 'rs-1',
      event_id: 'h:rs-1:1',
      revision: 1,
      user_id: 'user-4821',
      ts: '2026-11-23T09:15:19.900Z',
      session_ts: '2026-11-23T09:15:00.000Z',
      funnel: 'ABC',
      reached_recommend: true,
      reached_paraphrase: true,
      reached_selection: true,
      language: 'ko',
      doc_field: 'report',
      variant: 'A',
      profile_version: 37,
      cold_start: false,
      option: 'report:strong',
      option_rank: 1,
      option_score: 0.41,
      top_option: 'report:strong',
      outcome: 'accepted',
      accepted: true,
      edited: false,
      rejected: false,
      consistency: 'high',
      consistency_reasons: [],
      provider: 'openai',
      model: 'gpt-4o-mini',
      paraphrase_count: 1,
      candidate_count: 3,
      time_to_paraphrase_ms: 4250,
      time_to_select_ms: 19_900,
      // today's H carries no LLM usage
      prompt_tokens: null,
      cost_usd: null,
    });
    expect(d.shown.map((s) => s.slot)).toEqual(['1:report:strong', '2:report:moderate', '3:email:moderate']);
    expect(d.shown[1]).toMatchObject({ option: 'report:moderate', rank: 2, score: 0.22, vec: 0.25 });
  });

  it('finds the rank the chosen option was shown at, and none for a free style request', () => {
    const h = sampleExample('rs-1', 1, {
      patch: { chosen_option: { category: 'email', intensity: 'moderate' } },
    });
    expect(goldenDocument(h)).toMatchObject({ option: 'email:moderate', option_rank: 3, option_score: 0.09 });
    const free = sampleExample('rs-2', 1, { patch: { chosen_option: null, style_request: 'more formal' } });
    expect(goldenDocument(free)).toMatchObject({
      option: null,
      option_rank: null,
      style_request: 'more formal',
    });
  });

  it('calls a session cold when A was scored without a profile (version null or 0)', () => {
    for (const [pv, cold] of [
      [null, true],
      [0, true],
      [1, false],
    ] as const) {
      const h = sampleExample('rs', 1);
      h.recommended!.profile_version = pv;
      expect(goldenDocument(h).cold_start).toBe(cold);
    }
    expect(goldenDocument({ ...sampleExample('rs'), recommended: null, funnel: 'BC' }).cold_start).toBeNull();
  });

  it('maps outcomes to the accepted / edited / rejected flags (edited counts as accepted)', () => {
    const flags = (outcome: 'accepted' | 'edited' | 'rejected' | 'not_paraphrased') => {
      const d = goldenDocument(sampleExample('rs', 1, { patch: { outcome } }));
      return [d.accepted, d.edited, d.rejected];
    };
    expect(flags('accepted')).toEqual([true, false, false]);
    expect(flags('edited')).toEqual([true, true, false]);
    expect(flags('rejected')).toEqual([false, false, true]);
    expect(flags('not_paraphrased')).toEqual([false, false, false]);
  });

  it('sums LLM usage when H carries it, prices it by model, and costs the offline paraphraser nothing', () => {
    const h = sampleExample('rs');
    Object.assign(h.paraphrases[0]!, { prompt_tokens: 1000, completion_tokens: 500, latency_ms: 812 });
    const d = goldenDocument(h, { prices: { 'gpt-4o-mini': { prompt: 0.15, completion: 0.6 } } });
    expect(d).toMatchObject({
      prompt_tokens: 1000,
      completion_tokens: 500,
      total_tokens: 1500,
      llm_latency_ms: 812,
    });
    expect(d.cost_usd).toBeCloseTo(0.00045, 10);
    const off = sampleExample('rs');
    off.paraphrases[0]!.provider = 'offline';
    expect(goldenDocument(off).cost_usd).toBe(0);
  });

  it('indexes by the first event day (UTC) and names the other days the session touches', () => {
    expect(indexDay('2026-01-02T03:04:05.000Z')).toBe('2026.01.02');
    const w = goldenWrite(sampleExample('rs', 2, { startIso: '2026-11-23T23:59:50.000Z' }));
    expect(w).toMatchObject({ id: 'rs', version: 2, day: '2026.11.23', otherDays: ['2026.11.24'] });
    expect(goldenWrite(sampleExample('rs')).otherDays).toEqual([]);
    // B before A (out of order): the earliest event still decides
    const h = sampleExample('rs', 1, { startIso: '2026-11-24T00:00:01.000Z' });
    h.paraphrases[0]!.ts = '2026-11-23T23:59:59.000Z';
    expect(goldenWrite(h).day).toBe('2026.11.23');
  });

  it('produces only fields the strict mapping declares, of the declared types', () => {
    const docs = [
      goldenDocument(sampleExample('rs')),
      goldenDocument({
        ...sampleExample('rs'),
        recommended: null,
        context: null,
        paraphrases: [],
        selection: null,
      }),
    ];
    for (const d of docs) expect(mappingProblem(d)).toBeNull();
    const fields = mappedFields();
    for (const k of Object.keys(docs[0]!)) expect(fields.has(k) || k === 'shown').toBe(true);
    expect(GOLDEN_MAPPINGS.dynamic).toBe('strict');
    expect(fields.get('shown.score')).toBe('double');
    expect(fields.get('context_text.keyword')).toBe('keyword');
  });
});
