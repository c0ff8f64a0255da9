/**
 * A kind of user the D generator plants: what they tend to pick, how often they keep the rewrite,
 * which languages they write in and how they phrase free style requests. Mining never sees these;
 * they are the ground truth it is scored against.
 */
export interface LatentUserType {
  readonly name: string;
  /** Relative share of users of this type. */
  readonly weight: number;
  /** Option key (`category:intensity`) → relative weight; one main option with most of the mass. */
  readonly options: Readonly<Record<string, number>>;
  /** Probability that a rewrite is accepted. */
  readonly acceptRate: number;
  /** Language → share of this type's rows. */
  readonly languages: Readonly<Record<string, number>>;
  /** Free style requests by language, most popular first. */
  readonly prompts: Readonly<Record<string, readonly string[]>>;
  /** Share of rows that carry a free style request (default 0.6). */
  readonly promptRate?: number;
  /** Tenants users of this type work for. */
  readonly companies: readonly string[];
  /**
   * Doc field → share of this type's rows written in documents of that field (their `text` comes
   * from that field's part of the pool). With it, a row's option follows `byDomain` of its field
   * (or `options` where the field has none); without it, `text` follows the chosen option.
   */
  readonly domains?: Readonly<Record<string, number>>;
  /** Doc field → option weights there (a main option plus spread), like `options`. */
  readonly byDomain?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The option a type picks most: what a mined persona should recover as its preferred option. */
export function mainOption(type: LatentUserType): string {
  let best = '';
  let bestW = Number.NEGATIVE_INFINITY;
  for (const [key, w] of Object.entries(type.options)) {
    if (w > bestW) {
      best = key;
      bestW = w;
    }
  }
  return best;
}

/** Eight planted user types, loosely after the roles the seeds mention. */
export const DEFAULT_LATENT_TYPES: readonly LatentUserType[] = [
  {
    name: 'scholar',
    weight: 0.12,
    options: {
      'thesis:strong': 0.58,
      'thesis:moderate': 0.2,
      'report:strong': 0.08,
      'article:moderate': 0.05,
      'thesis:weak': 0.04,
    },
    acceptRate: 0.82,
    languages: { ko: 0.6, en: 0.4 },
    prompts: {
      ko: ['학술적인 톤으로 변경해줘', '논문체로 바꿔줘', '격식 있는 문어체로', '근거를 강조해서 써줘'],
      en: ['make it more academic', 'use a formal academic tone', 'sound like a journal paper'],
    },
    promptRate: 0.7,
    companies: ['hanbit-univ', 'seoul-research-institute', 'kaist-lab'],
  },
  {
    name: 'office-worker',
    weight: 0.18,
    options: {
      'email:moderate': 0.56,
      'email:weak': 0.12,
      'general:moderate': 0.1,
      'email:strong': 0.07,
      'report:moderate': 0.05,
    },
    acceptRate: 0.66,
    languages: { ko: 0.78, en: 0.22 },
    prompts: {
      ko: ['정중하게', '정중하게 바꿔줘', '좀 더 부드럽게', '간결하게 써줘'],
      en: ['make it more polite', 'more polite please', 'friendlier tone'],
    },
    companies: ['acme', 'daehan-logistics', 'mirae-insurance'],
  },
  {
    name: 'marketer',
    weight: 0.12,
    options: {
      'marketing:strong': 0.56,
      'marketing:moderate': 0.18,
      'article:moderate': 0.07,
      'general:strong': 0.05,
      'marketing:weak': 0.04,
    },
    acceptRate: 0.54,
    languages: { ko: 0.5, en: 0.5 },
    prompts: {
      ko: ['더 임팩트 있게', '광고 문구처럼', '짧고 강렬하게'],
      en: ['make it catchy', 'more punchy', 'shorter please'],
    },
    companies: ['bright-cosmetics', 'acme', 'nuri-commerce'],
  },
  {
    name: 'cs-agent',
    weight: 0.14,
    options: {
      'customer_service:moderate': 0.56,
      'customer_service:strong': 0.15,
      'email:moderate': 0.09,
      'customer_service:weak': 0.08,
    },
    acceptRate: 0.76,
    languages: { ko: 0.82, en: 0.18 },
    prompts: {
      ko: ['정중하게', '공손하게 사과하는 톤으로', '친절하게 바꿔줘', '요약해줘'],
      en: ['make it more polite', 'apologetic but professional'],
    },
    companies: ['nuri-commerce', 'mirae-insurance', 'hana-telecom'],
  },
  {
    name: 'reporter',
    weight: 0.1,
    options: {
      'article:moderate': 0.56,
      'article:strong': 0.12,
      'article:weak': 0.1,
      'report:moderate': 0.08,
    },
    acceptRate: 0.6,
    languages: { ko: 0.45, en: 0.55 },
    prompts: {
      ko: ['기사체로 바꿔줘', '객관적으로 써줘', '요약해줘'],
      en: ['neutral news style', 'make it objective', 'summarize it'],
    },
    companies: ['daily-hankook', 'metro-news'],
  },
  {
    name: 'manager',
    weight: 0.12,
    options: {
      'report:strong': 0.56,
      'report:moderate': 0.15,
      'email:strong': 0.1,
      'thesis:moderate': 0.04,
    },
    acceptRate: 0.71,
    languages: { ko: 0.65, en: 0.35 },
    prompts: {
      ko: ['보고서 형식으로', '요약해줘', '핵심만 간단히'],
      en: ['executive summary style', 'make it more formal', 'summarize it'],
    },
    companies: ['acme', 'daehan-logistics', 'hana-telecom'],
  },
  {
    name: 'casual',
    weight: 0.14,
    options: {
      'general:weak': 0.52,
      'general:moderate': 0.2,
      'email:weak': 0.1,
      'marketing:weak': 0.05,
    },
    acceptRate: 0.45,
    languages: { ko: 0.55, en: 0.45 },
    prompts: {
      ko: ['자연스럽게', '맞춤법만 고쳐줘', '좀 더 짧게'],
      en: ['fix grammar', 'shorter please', 'make it sound natural'],
    },
    promptRate: 0.45,
    companies: ['personal', 'acme'],
  },
  {
    name: 'global-sales',
    weight: 0.08,
    options: {
      'email:strong': 0.52,
      'email:moderate': 0.14,
      'marketing:moderate': 0.12,
      'customer_service:strong': 0.08,
    },
    acceptRate: 0.72,
    languages: { ko: 0.15, en: 0.85 },
    prompts: {
      ko: ['격식 있게', '설득력 있게'],
      en: ['make it more formal', 'more professional please', 'make it more persuasive'],
    },
    companies: ['hana-telecom', 'bright-cosmetics'],
  },
];

/**
 * Six planted types whose choice depends on what they write: a scholar wants `thesis:strong` in a
 * paper and `email:strong` in a mail, a support agent `email:weak` in the same mail. The D they
 * generate is what `personas-context.json` is mined from.
 */
export const CONTEXT_LATENT_TYPES: readonly LatentUserType[] = [
  {
    name: 'scholar',
    weight: 0.18,
    options: { 'thesis:strong': 0.7, 'thesis:moderate': 0.2 },
    domains: { thesis: 0.6, email: 0.4 },
    byDomain: {
      thesis: { 'thesis:strong': 0.72, 'thesis:moderate': 0.18 },
      email: { 'email:strong': 0.7, 'email:moderate': 0.15 },
    },
    acceptRate: 0.82,
    languages: { ko: 0.6, en: 0.4 },
    prompts: {
      ko: ['학술적인 톤으로 변경해줘', '논문체로 바꿔줘', '격식 있는 문어체로'],
      en: ['make it more academic', 'use a formal academic tone'],
    },
    promptRate: 0.7,
    companies: ['hanbit-univ', 'seoul-research-institute'],
  },
  {
    name: 'cs-agent',
    weight: 0.18,
    options: { 'customer_service:moderate': 0.7, 'customer_service:strong': 0.15 },
    domains: { customer_service: 0.55, email: 0.45 },
    byDomain: {
      customer_service: { 'customer_service:moderate': 0.7, 'customer_service:strong': 0.15 },
      email: { 'email:weak': 0.7, 'email:moderate': 0.15 },
    },
    acceptRate: 0.76,
    languages: { ko: 0.8, en: 0.2 },
    prompts: {
      ko: ['정중하게', '공손하게 사과하는 톤으로', '친절하게 바꿔줘'],
      en: ['make it more polite', 'apologetic but professional'],
    },
    companies: ['nuri-commerce', 'hana-telecom'],
  },
  {
    name: 'marketer',
    weight: 0.16,
    options: { 'marketing:strong': 0.7, 'marketing:moderate': 0.18 },
    domains: { marketing: 0.6, article: 0.4 },
    byDomain: {
      marketing: { 'marketing:strong': 0.7, 'marketing:moderate': 0.18 },
      article: { 'article:moderate': 0.68, 'article:strong': 0.15 },
    },
    acceptRate: 0.58,
    languages: { ko: 0.5, en: 0.5 },
    prompts: {
      ko: ['더 임팩트 있게', '광고 문구처럼', '짧고 강렬하게'],
      en: ['make it catchy', 'more punchy'],
    },
    companies: ['bright-cosmetics', 'nuri-commerce'],
  },
  {
    name: 'reporter',
    weight: 0.14,
    options: { 'article:weak': 0.7, 'article:moderate': 0.15 },
    domains: { article: 0.6, report: 0.4 },
    byDomain: {
      article: { 'article:weak': 0.7, 'article:moderate': 0.15 },
      report: { 'report:moderate': 0.7, 'report:weak': 0.12 },
    },
    acceptRate: 0.6,
    languages: { ko: 0.45, en: 0.55 },
    prompts: {
      ko: ['기사체로 바꿔줘', '객관적으로 써줘'],
      en: ['neutral news style', 'make it objective'],
    },
    companies: ['daily-hankook', 'metro-news'],
  },
  {
    name: 'manager',
    weight: 0.16,
    options: { 'report:strong': 0.7, 'report:moderate': 0.15 },
    domains: { report: 0.55, email: 0.45 },
    byDomain: {
      report: { 'report:strong': 0.7, 'report:moderate': 0.15 },
      email: { 'email:moderate': 0.7, 'email:strong': 0.12 },
    },
    acceptRate: 0.71,
    languages: { ko: 0.65, en: 0.35 },
    prompts: {
      ko: ['보고서 형식으로', '요약해줘', '핵심만 간단히'],
      en: ['executive summary style', 'summarize it'],
    },
    companies: ['acme', 'daehan-logistics'],
  },
  {
    name: 'casual',
    weight: 0.18,
    options: { 'general:weak': 0.65, 'general:moderate': 0.2 },
    domains: { general: 0.7, email: 0.3 },
    byDomain: {
      general: { 'general:weak': 0.68, 'general:moderate': 0.2 },
      email: { 'email:weak': 0.65, 'general:weak': 0.2 },
    },
    acceptRate: 0.48,
    languages: { ko: 0.55, en: 0.45 },
    prompts: {
      ko: ['자연스럽게', '맞춤법만 고쳐줘'],
      en: ['fix grammar', 'make it sound natural'],
    },
    promptRate: 0.45,
    companies: ['personal', 'acme'],
  },
];
