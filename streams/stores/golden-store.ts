import type { GoldenDocument, GoldenWrite } from '../sinks/golden-document.ts';

/**
 * The golden-index port: H's flattened documents in daily indices `<prefix>YYYY.MM.DD`, one per
 * session at its latest revision. Implemented by Elasticsearch (es-golden-store.ts) and by the
 * in-memory twin below; both pass test/helpers/golden-contract.ts.
 */
export interface GoldenStore {
  /** `sentencify-golden-` by default; indices are `<prefix>YYYY.MM.DD`. */
  readonly prefix: string;
  /** Creates or updates the composable index template for `<prefix>*` (idempotent). */
  ensureTemplate(): Promise<void>;
  /**
   * Writes each document at `version` = revision with external versioning: an equal or older
   * revision is not written and counted `stale`; a document the mapping refuses is returned in
   * `rejected` (by its position in `writes`) with the store's reason. A store that is away or
   * pushes back throws a retriable SinkError after what it could not place.
   */
  write(writes: readonly GoldenWrite[]): Promise<GoldenWriteResult>;
  /** Every copy of a session across the prefix's indices (one, unless something went wrong), as of the last refresh. */
  get(sessionId: string): Promise<StoredGolden[]>;
  /** Documents across the prefix's indices, as of the last refresh. */
  count(): Promise<number>;
  /** Makes what was written searchable now (tests; the sink leaves it to the refresh interval). */
  refresh(): Promise<void>;
  /**
   * Removes every document of the user across the prefix's indices (erasure); how many. It
   * refreshes first, so what was written a moment ago is found too.
   */
  eraseUser?(userId: string): Promise<number>;
  /** Deletes the prefix's indices and template (tests). */
  drop(): Promise<void>;
  close(): Promise<void>;
}

export interface StoredGolden {
  readonly index: string;
  readonly version: number;
  readonly doc: GoldenDocument;
}

export interface GoldenWriteResult {
  readonly written: number;
  /** Not written: the store already holds this revision or a newer one (a replay, a late old revision). */
  readonly stale: number;
  readonly rejected: readonly { readonly at: number; readonly reason: string }[];
}

export const DEFAULT_GOLDEN_PREFIX = 'sentencify-golden-';

/** The index a write goes to. */
export const goldenIndex = (prefix: string, day: string) => `${prefix}${day}`;

/** The template's name for a prefix (`sentencify-golden-` → `sentencify-golden`). */
export const goldenTemplateName = (prefix: string) => prefix.replace(/[-_.]+$/, '') || 'golden';

/**
 * A longer prefix wins over a shorter one that also matches its indices (a test prefix
 * `sentencify-golden-t1-` under the default template): ES refuses overlapping templates of equal
 * priority, and different prefixes of the same length never overlap.
 */
export const goldenTemplatePriority = (prefix: string) => 100 + prefix.length;

type Field = {
  type: string;
  fields?: Record<string, Field>;
  ignore_above?: number;
  properties?: Record<string, Field>;
};

const kw: Field = { type: 'keyword' };
const int: Field = { type: 'integer' };
const long: Field = { type: 'long' };
const dbl: Field = { type: 'double' };
const bool: Field = { type: 'boolean' };
const date: Field = { type: 'date' };
const text: Field = { type: 'text' };
const textKw: Field = { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } } };

/**
 * The mapping, explicit and strict: a field H's document does not declare is refused (and
 * dead-lettered), not guessed. `shown` is an `object` array, not `nested`: Kibana's visualisations
 * aggregate object sub-fields directly and cannot aggregate nested ones; which option sat at which
 * rank stays aggregatable through `shown.slot` (`1:report:strong`).
 */
export const GOLDEN_MAPPINGS = {
  dynamic: 'strict',
  properties: {
    recommend_session_id: kw,
    event_id: kw,
    revision: int,
    user_id: kw,
    ts: date,
    session_ts: date,
    recommend_ts: date,
    paraphrase_ts: date,
    selection_ts: date,
    recommend_event_id: kw,
    paraphrase_event_ids: kw,
    selection_event_id: kw,
    funnel: kw,
    closed_by: kw,
    reached_recommend: bool,
    reached_paraphrase: bool,
    reached_selection: bool,
    doc_id: kw,
    language: kw,
    doc_field: kw,
    context_text: textKw,
    prev_sentence: text,
    next_sentence: text,
    variant: kw,
    explored: bool,
    model_version: kw,
    profile_version: long,
    cold_start: bool,
    alpha: dbl,
    beta: dbl,
    cluster: kw,
    shown: {
      type: 'object',
      properties: {
        option: kw,
        category: kw,
        intensity: kw,
        rank: int,
        slot: kw,
        score: dbl,
        propensity: dbl,
        vec: dbl,
        doc: dbl,
        user: dbl,
        cluster: dbl,
      },
    },
    shown_count: int,
    top_option: kw,
    top_score: dbl,
    option: kw,
    option_category: kw,
    option_intensity: kw,
    option_rank: int,
    option_score: dbl,
    option_propensity: dbl,
    style_request: textKw,
    outcome: kw,
    accepted: bool,
    edited: bool,
    rejected: bool,
    acceptance: int,
    consistency: kw,
    consistency_reasons: kw,
    provider: kw,
    model: kw,
    paraphrase_variant: kw,
    paraphrase_count: int,
    candidate_count: int,
    prompt_tokens: long,
    completion_tokens: long,
    total_tokens: long,
    llm_latency_ms: dbl,
    cost_usd: dbl,
    time_to_paraphrase_ms: long,
    time_to_select_ms: long,
  } satisfies Record<keyof GoldenDocument, Field>,
} as const;

/**
 * The composable template body for a prefix. One shard (a day of sessions is small);
 * `auto_expand_replicas` 0-1 keeps a single node green and gives a cluster one replica; a fixed
 * 1 s refresh interval, so an idle index is not left unrefreshed until the next search.
 */
export function goldenTemplate(prefix: string) {
  return {
    name: goldenTemplateName(prefix),
    index_patterns: [`${prefix}*`],
    priority: goldenTemplatePriority(prefix),
    template: {
      settings: { number_of_shards: 1, auto_expand_replicas: '0-1', refresh_interval: '1s' },
      mappings: GOLDEN_MAPPINGS,
    },
    _meta: { description: 'Sentencify training examples (H), one document per recommend session' },
  };
}

/** Every leaf field path of the mapping with its type (`shown.score` → `double`, `context_text.keyword` → `keyword`). */
export function mappedFields(props: Record<string, Field> = GOLDEN_MAPPINGS.properties): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: Record<string, Field>, at: string) => {
    for (const [k, f] of Object.entries(p)) {
      const path = at ? `${at}.${k}` : k;
      if (f.properties) walk(f.properties, path);
      else out.set(path, f.type);
      for (const [sk, sf] of Object.entries(f.fields ?? {})) out.set(`${path}.${sk}`, sf.type);
    }
  };
  walk(props, '');
  return out;
}

/**
 * What Elasticsearch would refuse in a document under the strict mapping, in its words
 * (`strict_dynamic_mapping_exception`, `mapper_parsing_exception`), or null. The twin's check;
 * numeric strings and `"true"`/`"false"` pass as they do in ES.
 */
export function mappingProblem(
  doc: unknown,
  props: Record<string, Field> = GOLDEN_MAPPINGS.properties,
): string | null {
  const check = (value: unknown, p: Record<string, Field>, at: string): string | null => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return `mapper_parsing_exception: object mapping for [${at || '_doc'}] tried to parse a value as an object`;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const path = at ? `${at}.${k}` : k;
      const f = p[k];
      if (!f) {
        return `strict_dynamic_mapping_exception: [${at || '_doc'}] mapping set to strict, dynamic introduction of [${k}] within [${at || '_doc'}] is not allowed`;
      }
      const values = Array.isArray(v) ? v : [v];
      for (const x of values) {
        if (x === null) continue;
        const bad = f.properties ? check(x, f.properties, path) : leafProblem(x, f.type, path);
        if (bad) return bad;
      }
    }
    return null;
  };
  return check(doc, props, '');
}

function leafProblem(x: unknown, type: string, path: string): string | null {
  const fail = (what: string) =>
    `mapper_parsing_exception: failed to parse field [${path}] of type [${type}]: ${what} ${JSON.stringify(x)?.slice(0, 80)}`;
  switch (type) {
    case 'keyword':
    case 'text':
      return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean'
        ? null
        : fail('not a string:');
    case 'integer':
    case 'long':
    case 'double': {
      const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : Number.NaN;
      if (!Number.isFinite(n)) return fail('not a number:');
      if (type !== 'double' && !Number.isInteger(n) && typeof x === 'string') return fail('not an integer:');
      return null;
    }
    case 'boolean':
      return typeof x === 'boolean' || x === 'true' || x === 'false' ? null : fail('not a boolean:');
    case 'date':
      return (typeof x === 'string' && !Number.isNaN(Date.parse(x))) || typeof x === 'number'
        ? null
        : fail('not a date:');
    default:
      return null;
  }
}

/**
 * The in-memory twin (embedded mode, unit tests): the same external versioning, the same strict
 * mapping check, the same daily indices and moves, so it passes the same contract suite.
 *
 * @example
 * const store = createMemoryGoldenStore();
 * const sink = createGoldenSink({ store, topic: topics.trainingExamples });
 */
export function createMemoryGoldenStore(opts: { prefix?: string } = {}): GoldenStore & {
  /** index → id → stored copy, for assertions. */
  snapshot(): Map<string, Map<string, StoredGolden>>;
} {
  const prefix = opts.prefix ?? DEFAULT_GOLDEN_PREFIX;
  const indices = new Map<string, Map<string, StoredGolden>>();
  let templated = false;
  return {
    prefix,
    async ensureTemplate() {
      templated = true;
    },
    async write(writes) {
      if (!templated) templated = true; // like ES's auto-create under the template
      let written = 0;
      let stale = 0;
      const rejected: { at: number; reason: string }[] = [];
      writes.forEach((w, at) => {
        const problem = mappingProblem(w.doc);
        if (problem) {
          rejected.push({ at, reason: problem });
          return;
        }
        const name = goldenIndex(prefix, w.day);
        const index = indices.get(name) ?? new Map<string, StoredGolden>();
        indices.set(name, index);
        const cur = index.get(w.id);
        if (cur && cur.version >= w.version) {
          stale++;
          return;
        }
        index.set(w.id, { index: name, version: w.version, doc: structuredClone(w.doc) });
        written++;
        for (const d of w.otherDays) {
          const other = indices.get(goldenIndex(prefix, d));
          const old = other?.get(w.id);
          if (other && old && old.version < w.version) other.delete(w.id);
        }
      });
      return { written, stale, rejected };
    },
    async get(sessionId) {
      const out: StoredGolden[] = [];
      for (const index of [...indices.keys()].sort()) {
        const s = indices.get(index)!.get(sessionId);
        if (s) out.push(structuredClone(s));
      }
      return out;
    },
    async count() {
      let n = 0;
      for (const i of indices.values()) n += i.size;
      return n;
    },
    async refresh() {},
    async eraseUser(userId) {
      let n = 0;
      for (const index of indices.values())
        for (const [id, s] of index)
          if (s.doc.user_id === userId) {
            index.delete(id);
            n++;
          }
      return n;
    },
    async drop() {
      indices.clear();
      templated = false;
    },
    async close() {},
    snapshot: () => indices,
  };
}
