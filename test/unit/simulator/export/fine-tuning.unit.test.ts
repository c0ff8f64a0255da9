import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TrainingExample, trainingExampleSchema } from '../../../../schemas/index.ts';
import { formatPath, runExportCli } from '../../../../simulator/export/cli.ts';
import {
  type ChatExample,
  type ChatMessage,
  latestRevisions,
  type PreferencePair,
  toChatExamples,
  toPreferencePairs,
} from '../../../../simulator/export/fine-tuning.ts';

const BASE: TrainingExample = trainingExampleSchema.parse(
  JSON.parse(
    readFileSync(new URL('../../../../schemas/examples/h-training-example.json', import.meta.url), 'utf8'),
  ),
);
const KO_CANDIDATES = BASE.paraphrases[0]!.candidates;

type Overrides = Partial<TrainingExample> & { id?: string; minute?: number };

/** The example H, re-keyed and varied; stays valid against the schema. */
function h(o: Overrides = {}): TrainingExample {
  const { id = 'rs-1', minute = 0, ...rest } = o;
  const ts = `2026-11-23T09:${String(15 + minute).padStart(2, '0')}:19.900Z`;
  const revision = rest.revision ?? 1;
  return trainingExampleSchema.parse({
    ...structuredClone(BASE),
    event_id: `h:${id}:${revision}`,
    recommend_session_id: id,
    ts,
    ...rest,
  });
}

const EN_CONTEXT: NonNullable<TrainingExample['context']> = {
  text: 'We got the numbers and they look pretty good this time.',
  language: 'en',
  doc_field: 'email',
};
const EN_CANDIDATES = [
  'We have received the figures, and they look encouraging this quarter.',
  'The figures are in and they look strong.',
  'The numbers came in, and they look quite good this time.',
];

/** An English session with a free style request. */
function enStyle(o: Overrides = {}): TrainingExample {
  return h({
    context: EN_CONTEXT,
    paraphrases: [
      {
        ...BASE.paraphrases[0]!,
        request: { style_request: 'make it sound more formal' },
        candidates: EN_CANDIDATES,
        model: 'gpt-4o',
        variant: 'B',
      },
    ],
    selection: { ...BASE.selection!, chosen_index: 0, final_text: null, edited: false },
    chosen_option: null,
    style_request: 'make it sound more formal',
    accepted_text: EN_CANDIDATES[0]!,
    ...o,
  });
}

function rejected(o: Overrides = {}): TrainingExample {
  return h({
    selection: { ...BASE.selection!, chosen_index: null, final_text: null, edited: false },
    accepted_text: null,
    outcome: 'rejected',
    ...o,
  });
}

function edited(o: Overrides = {}): TrainingExample {
  const final = '당사의 이번 분기 매출은 전년 동기 대비 12% 증가하였습니다.';
  return h({
    selection: { ...BASE.selection!, chosen_index: 1, final_text: final, edited: true },
    accepted_text: final,
    outcome: 'edited',
    ...o,
  });
}

const text = (m: readonly ChatMessage[] | string): string => (typeof m === 'string' ? m : m[0]!.content);
const user = (c: ChatExample): string => c.messages.find((m) => m.role === 'user')!.content;
const assistant = (c: ChatExample): string => c.messages.find((m) => m.role === 'assistant')!.content;

describe('latestRevisions', () => {
  it('keeps the highest revision of each session, whatever the input order, with duplicates', () => {
    const r1 = rejected({ id: 'rs-a', revision: 1 });
    const r3 = h({ id: 'rs-a', revision: 3, minute: 2 });
    const r2 = rejected({ id: 'rs-a', revision: 2, minute: 1 });
    const other = h({ id: 'rs-b', minute: 1 });
    const out = latestRevisions([r3, r1, other, r2, r3, other]);
    expect(out.map((x) => [x.recommend_session_id, x.revision])).toEqual([
      ['rs-b', 1],
      ['rs-a', 3],
    ]);
  });

  it('orders by ts, then session id', () => {
    const out = latestRevisions([
      h({ id: 'rs-z' }),
      h({ id: 'rs-y', minute: 0 }),
      h({ id: 'rs-x', minute: -1 }),
    ]);
    expect(out.map((x) => x.recommend_session_id)).toEqual(['rs-x', 'rs-y', 'rs-z']);
  });
});

describe('toChatExamples', () => {
  it('turns an accepted session into system, user, assistant with the chosen candidate', () => {
    const { lines, sessions, skipped } = toChatExamples([h()]);
    expect(sessions).toBe(1);
    expect(skipped).toEqual({});
    expect(lines).toHaveLength(1);
    const c = lines[0]!;
    expect(c.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(assistant(c)).toBe(KO_CANDIDATES[1]);
    const u = user(c);
    expect(u).toContain('report · strong');
    expect(u).toContain('Korean (ko)');
    expect(u).toContain(`Sentence: ${BASE.context!.text}`);
    expect(u).toContain(BASE.context!.prev_sentence);
    expect(u).toContain(BASE.context!.next_sentence);
    expect(u.indexOf(BASE.context!.prev_sentence!)).toBeLessThan(u.indexOf(BASE.context!.text));
    expect(u.indexOf(BASE.context!.text)).toBeLessThan(u.indexOf(BASE.context!.next_sentence!));
    expect(c.metadata).toMatchObject({
      session_id: 'rs-1',
      user_id: 'user-4821',
      option: 'report:strong',
      style_request: null,
      variant: 'A',
      model: 'gpt-4o-mini',
      consistency: 'high',
      outcome: 'accepted',
      language: 'ko',
    });
    expect(JSON.stringify(c.messages)).not.toContain('user-4821');
  });

  it('collapses revisions: a session rejected at revision 1 and accepted at 2 gives one line', () => {
    const { lines, sessions } = toChatExamples([
      rejected({ revision: 1 }),
      h({ revision: 2 }),
      h({ revision: 2 }),
    ]);
    expect(sessions).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.metadata!.revision).toBe(2);
    // …and the other way round: the latest revision decides
    expect(toChatExamples([h({ revision: 1 }), rejected({ revision: 2 })]).lines).toEqual([]);
  });

  it('uses the final text of an edited session, and can leave edited sessions out', () => {
    const e = edited();
    const { lines } = toChatExamples([e]);
    expect(assistant(lines[0]!)).toBe(e.selection!.final_text);
    expect(assistant(lines[0]!)).not.toBe(KO_CANDIDATES[1]);
    expect(lines[0]!.metadata!.outcome).toBe('edited');
    const without = toChatExamples([e], { includeEdited: false });
    expect(without.lines).toEqual([]);
    expect(without.skipped).toEqual({ edited_excluded: 1 });
  });

  it('gives nothing for rejected, not paraphrased and unknown sessions, and counts them', () => {
    const notParaphrased = h({
      id: 'rs-np',
      paraphrases: [],
      selection: null,
      chosen_option: null,
      accepted_text: null,
      outcome: 'not_paraphrased',
      consistency: 'medium',
    });
    const { lines, sessions, skipped } = toChatExamples([
      rejected({ id: 'rs-r' }),
      notParaphrased,
      h({ id: 'rs-u', outcome: 'unknown' }),
    ]);
    expect(lines).toEqual([]);
    expect(sessions).toBe(3);
    expect(skipped).toEqual({ outcome_rejected: 1, outcome_not_paraphrased: 1, outcome_unknown: 1 });
  });

  it('skips and counts what cannot be used, one reason per session', () => {
    const hs = [
      h({ id: 'rs-ok' }),
      h({ id: 'rs-noctx', context: null, recommended: null, funnel: 'BC' }),
      h({ id: 'rs-nob', paraphrases: [] }),
      h({ id: 'rs-range', selection: { ...BASE.selection!, chosen_index: 7 } }),
      h({ id: 'rs-nosel', selection: null }),
      edited({ id: 'rs-nofinal', selection: { ...BASE.selection!, final_text: null, edited: true } }),
      h({ id: 'rs-low', consistency: 'low' }),
      h({ id: 'rs-medium', consistency: 'medium' }),
    ];
    const r = toChatExamples(hs);
    expect(r.lines.map((l) => l.metadata!.session_id).sort()).toEqual(['rs-medium', 'rs-ok']);
    expect(r.skipped).toEqual({
      no_context: 1,
      no_paraphrase: 1,
      chosen_index_out_of_range: 1,
      no_selection: 1,
      edited_without_final_text: 1,
      below_min_consistency: 1,
    });
    const accounted = r.lines.length + Object.values(r.skipped).reduce((a, b) => a + (b ?? 0), 0);
    expect(accounted).toBe(r.sessions);

    expect(toChatExamples(hs, { minConsistency: 'high' }).skipped.below_min_consistency).toBe(2);
    expect(toChatExamples(hs, { minConsistency: 'low' }).lines).toHaveLength(3);
  });

  it('phrases a style-request session with the request, in English', () => {
    const { lines } = toChatExamples([enStyle()]);
    const c = lines[0]!;
    expect(user(c)).toContain('following this request: "make it sound more formal"');
    expect(user(c)).toContain('English (en)');
    expect(user(c)).not.toContain('·');
    expect(user(c)).not.toContain('Previous sentence');
    expect(assistant(c)).toBe(EN_CANDIDATES[0]);
    expect(c.metadata).toMatchObject({
      option: null,
      style_request: 'make it sound more formal',
      variant: 'B',
    });
  });

  it('answers from the last paraphrase, the one the selection refers to', () => {
    const first = { ...BASE.paraphrases[0]!, request: { category: 'email', intensity: 'weak' } as const };
    const last = {
      ...BASE.paraphrases[0]!,
      ts: '2026-11-23T09:15:10.000Z',
      candidates: ['가', '나'],
    };
    const { lines } = toChatExamples([h({ paraphrases: [first, last] })]);
    expect(assistant(lines[0]!)).toBe('나');
    expect(user(lines[0]!)).toContain('report · strong');
  });

  it('orders lines by ts, then session id, and can drop the metadata', () => {
    const { lines } = toChatExamples(
      [h({ id: 'rs-b', minute: 3 }), enStyle({ id: 'rs-c' }), h({ id: 'rs-a' })],
      {
        metadata: false,
      },
    );
    expect(lines.map((l) => l.metadata)).toEqual([undefined, undefined, undefined]);
    expect(lines.map((l) => assistant(l))).toEqual([KO_CANDIDATES[1], EN_CANDIDATES[0], KO_CANDIDATES[1]]);
    expect(lines.map((l) => user(l).includes('English'))).toEqual([false, true, false]);
    // rs-a and rs-c share a ts: the session id breaks the tie; rs-b comes last by ts
    expect(
      toChatExamples([h({ id: 'rs-b', minute: 3 }), enStyle({ id: 'rs-c' }), h({ id: 'rs-a' })]).lines.map(
        (l) => l.metadata!.session_id,
      ),
    ).toEqual(['rs-a', 'rs-c', 'rs-b']);
  });
});

describe('toPreferencePairs', () => {
  it('pairs the kept text with the candidates the user did not pick, never the chosen one', () => {
    const r = toPreferencePairs([h()]);
    expect(r.lines).toHaveLength(2);
    expect(r.pairedSessions).toBe(1);
    for (const p of r.lines) {
      expect(text(p.chosen)).toBe(KO_CANDIDATES[1]);
      expect(text(p.rejected)).not.toBe(KO_CANDIDATES[1]);
    }
    expect(r.lines.map((p) => text(p.rejected))).toEqual([KO_CANDIDATES[0], KO_CANDIDATES[2]]);
    expect(r.lines.map((p) => p.metadata!.rejected_index)).toEqual([0, 2]);
    const p = r.lines[0]!;
    expect((p.prompt as ChatMessage[]).map((m) => m.role)).toEqual(['system', 'user']);
    expect((p.chosen as ChatMessage[])[0]!.role).toBe('assistant');
    expect(p.prompt).toEqual(toChatExamples([h()]).lines[0]!.messages.slice(0, 2));
  });

  it('respects the cap per session', () => {
    const many = h({
      paraphrases: [{ ...BASE.paraphrases[0]!, candidates: ['a', 'b', 'c', 'd', 'e'] }],
      selection: { ...BASE.selection!, chosen_index: 2 },
    });
    expect(toPreferencePairs([many]).lines.map((p) => text(p.rejected))).toEqual(['a', 'b']);
    expect(toPreferencePairs([many], { pairsPerSession: 3 }).lines.map((p) => text(p.rejected))).toEqual([
      'a',
      'b',
      'd',
    ]);
    expect(toPreferencePairs([many], { pairsPerSession: 10 }).lines).toHaveLength(4);
    expect(() => toPreferencePairs([many], { pairsPerSession: 0 })).toThrow(RangeError);
  });

  it('gives no pair for a rejected session (no chosen text) or where every other candidate equals the kept one', () => {
    const r = toPreferencePairs([rejected({ id: 'rs-r' })]);
    expect(r.lines).toEqual([]);
    expect(r.skipped).toEqual({ outcome_rejected: 1 });

    const dup = h({
      id: 'rs-dup',
      paraphrases: [
        { ...BASE.paraphrases[0]!, candidates: ['같은 문장.', ' 같은 문장. ', '다른 문장.', '다른 문장.'] },
      ],
      selection: { ...BASE.selection!, chosen_index: 0 },
    });
    const d = toPreferencePairs([dup], { pairsPerSession: 5 });
    expect(d.lines.map((p) => [text(p.chosen), text(p.rejected)])).toEqual([['같은 문장.', '다른 문장.']]);
    expect(d.identical).toBe(2);

    const single = h({
      id: 'rs-one',
      paraphrases: [{ ...BASE.paraphrases[0]!, candidates: ['하나뿐인 문장.'] }],
      selection: { ...BASE.selection!, chosen_index: 0 },
    });
    expect(toPreferencePairs([single]).skipped).toEqual({ no_rejected_candidate: 1 });
  });

  it('pairs an edited session with its final text as chosen', () => {
    const e = edited();
    const r = toPreferencePairs([e]);
    expect(r.lines.map((p) => text(p.chosen))).toEqual([e.selection!.final_text, e.selection!.final_text]);
    expect(r.lines.map((p) => text(p.rejected))).toEqual([KO_CANDIDATES[0], KO_CANDIDATES[2]]);
    expect(toPreferencePairs([e], { includeEdited: false }).lines).toEqual([]);
  });

  it('writes the text format as plain strings, English style requests included', () => {
    const r = toPreferencePairs([enStyle()], { format: 'text', pairsPerSession: 1 });
    const p: PreferencePair = r.lines[0]!;
    expect(typeof p.prompt).toBe('string');
    expect(p.prompt).toContain('make it sound more formal');
    expect(p).toMatchObject({ chosen: EN_CANDIDATES[0], rejected: EN_CANDIDATES[1] });
  });
});

describe('export CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  }

  const readJsonl = (path: string): unknown[] =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));

  it('writes chat.jsonl and preference-pairs.jsonl and reports malformed lines with their number', async () => {
    const input = join(dir, 'h.jsonl');
    const bad = { ...h({ id: 'rs-bad' }), revision: 'two' };
    const lines = [
      JSON.stringify(rejected({ id: 'rs-ko', revision: 1 })),
      JSON.stringify(h({ id: 'rs-ko', revision: 2, minute: 1 })),
      '',
      '{ not json',
      JSON.stringify(enStyle({ id: 'rs-en', minute: 2 })),
      JSON.stringify(bad),
      JSON.stringify(rejected({ id: 'rs-rej', minute: 3 })),
      JSON.stringify(edited({ id: 'rs-ed', minute: 4 })),
    ];
    writeFileSync(input, lines.join('\n') + '\n');
    const out = join(dir, 'out');
    const c = capture();
    expect(await runExportCli(['--input', input, '--out', out, '--pairs-per-session', '1'], c.io)).toBe(0);
    const report = c.out.join('\n');
    expect(report).toContain('7 lines, 5 training examples, 2 rejected');
    expect(report).toMatch(/rejected line 4: invalid JSON/);
    expect(report).toMatch(/rejected line 6: revision: /);
    expect(report).toContain('sessions: 4');
    expect(report).toMatch(/chat examples: 3 → .*chat\.jsonl/);
    expect(report).toMatch(/skipped: outcome_rejected 1/);
    expect(report).toMatch(/preference pairs: 3 from 3 sessions/);

    const chat = readJsonl(join(out, 'chat.jsonl')) as ChatExample[];
    expect(chat.map((x) => x.metadata!.session_id)).toEqual(['rs-ko', 'rs-en', 'rs-ed']);
    expect(chat.map((x) => x.metadata!.revision)).toEqual([2, 1, 1]);
    expect(assistant(chat[0]!)).toBe(KO_CANDIDATES[1]);
    const pairs = readJsonl(join(out, 'preference-pairs.jsonl')) as PreferencePair[];
    expect(pairs).toHaveLength(3);
    expect(pairs.every((p) => text(p.chosen) !== text(p.rejected))).toBe(true);
  });

  it('exits 2 with usage on bad arguments', async () => {
    for (const argv of [
      ['--out', dir],
      ['--input', 'x.jsonl'],
      ['--input', 'x', '--out', dir, '--min-consistency', 'great'],
      ['--input', 'x', '--out', dir, '--pairs-per-session', '0'],
      ['--input', 'x', '--out', dir, '--bogus'],
    ]) {
      const c = capture();
      expect(await runExportCli(argv, c.io)).toBe(2);
      expect(c.err.join('\n')).toContain('usage:');
    }
  });

  it('exits 1 on a missing input, or when no line is a valid H', async () => {
    const missing = capture();
    expect(await runExportCli(['--input', join(dir, 'nope.jsonl'), '--out', dir], missing.io)).toBe(1);
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, '{"type":"training_example"}\n');
    const c = capture();
    expect(await runExportCli(['--input', junk, '--out', join(dir, 'junk')], c.io)).toBe(1);
    expect(c.out.join('\n')).toMatch(/rejected line 1: /);
  });

  it('formats zod paths', () => {
    expect(formatPath(['paraphrases', 0, 'candidates', 1])).toBe('paraphrases[0].candidates[1]');
    expect(formatPath([])).toBe('(root)');
  });
});
