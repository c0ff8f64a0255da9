import { uniformHash } from '../../common/hash.ts';
import type { ParaphraseInput, ParaphraseOutput, Paraphraser } from './paraphraser.ts';

export const OFFLINE_PARAPHRASER_MODEL = 'offline-paraphraser-v1';

/** A register: how writing of one kind opens, closes, and which plain words it replaces. */
interface Register {
  readonly openers: readonly string[];
  readonly closers: readonly string[];
  /** [plain word, register word], matched as whole words, case-insensitively. */
  readonly swaps: readonly (readonly [string, string])[];
}

const EN: Record<string, Register> = {
  thesis: {
    openers: [
      'This study indicates that',
      'The evidence suggests that',
      'As the analysis shows,',
      'It can be argued that',
      'Notably,',
      'In this context,',
    ],
    closers: [
      'This warrants further investigation.',
      'These findings are consistent with prior work.',
      'Accordingly, the implications are discussed below.',
      'This is examined in the following section.',
    ],
    swaps: [
      ['show', 'demonstrate'],
      ['shows', 'demonstrates'],
      ['use', 'employ'],
      ['big', 'substantial'],
      ['get', 'obtain'],
      ['about', 'approximately'],
      ['think', 'argue'],
      ['but', 'however,'],
      ['a lot of', 'a considerable number of'],
    ],
  },
  email: {
    openers: [
      'I hope this message finds you well.',
      'Thank you for your note.',
      'I wanted to let you know that',
      'Just a quick update:',
      'Following up on our conversation,',
      'As discussed,',
    ],
    closers: [
      'Kind regards.',
      'Please let me know if you have any questions.',
      'Thanks in advance.',
      'Looking forward to hearing from you.',
      'Best wishes.',
    ],
    swaps: [
      ['want', 'would like'],
      ['get', 'receive'],
      ['need', 'require'],
      ['tell', 'inform'],
      ['asap', 'as soon as possible'],
      ['thanks', 'thank you'],
      ['help', 'assist'],
    ],
  },
  report: {
    openers: [
      'In summary,',
      'According to the latest figures,',
      'As of this quarter,',
      'The data show that',
      'Key finding:',
      'Overall,',
    ],
    closers: [
      'as reported.',
      'Further details are in the appendix.',
      'This is in line with the previous period.',
      'Next steps are outlined below.',
    ],
    swaps: [
      ['went up', 'increased'],
      ['went down', 'decreased'],
      ['about', 'approximately'],
      ['big', 'significant'],
      ['show', 'indicate'],
      ['start', 'commence'],
    ],
  },
  article: {
    openers: [
      'According to recent reports,',
      'In a development this week,',
      'Observers note that',
      'Sources say that',
      'As it turns out,',
      'Here is the news:',
    ],
    closers: [
      'More details are expected soon.',
      'The story is still developing.',
      'Reactions have been mixed.',
      'It remains to be seen what comes next.',
    ],
    swaps: [
      ['said', 'stated'],
      ['big', 'major'],
      ['started', 'launched'],
      ['a lot of', 'many'],
      ['now', 'currently'],
    ],
  },
  marketing: {
    openers: [
      'Discover it now:',
      'Good news!',
      'Introducing something new:',
      'Don’t wait:',
      'Here’s the best part:',
      'Made for you:',
    ],
    closers: [
      '— don’t miss out!',
      'Try it today.',
      'Limited time only.',
      'You’ll love it.',
      'Join thousands of happy customers.',
    ],
    swaps: [
      ['good', 'amazing'],
      ['new', 'brand-new'],
      ['cheap', 'affordable'],
      ['buy', 'get'],
      ['easy', 'effortless'],
    ],
  },
  customer_service: {
    openers: [
      'Thank you for reaching out.',
      'Thanks for your patience.',
      'We’re sorry for the trouble.',
      'Happy to help:',
      'We understand your concern.',
      'Good question!',
    ],
    closers: [
      'We are happy to help.',
      'Please let us know if anything else comes up.',
      'Have a great day!',
      'We appreciate your understanding.',
      'Feel free to reply to this message.',
    ],
    swaps: [
      ['problem', 'issue'],
      ['can’t', 'are unable to'],
      ["can't", 'are unable to'],
      ['fix', 'resolve'],
      ['wait', 'hold on'],
      ['get', 'receive'],
    ],
  },
  general: {
    openers: ['In short,', 'Put simply,', 'To be clear,', 'Basically,', 'In other words,', 'Simply put,'],
    closers: [
      'That’s the gist.',
      'That sums it up.',
      'Hope that helps.',
      'More on this later.',
      'Just so you know.',
    ],
    swaps: [
      ['very', 'really'],
      ['big', 'large'],
      ['start', 'begin'],
      ['help', 'support'],
      ['also', 'as well'],
    ],
  },
};

const KO: Record<string, Register> = {
  thesis: {
    openers: [
      '본 연구에 따르면,',
      '분석 결과에 따르면,',
      '이러한 맥락에서,',
      '주목할 점은,',
      '선행 연구와 같이,',
      '결과적으로,',
    ],
    closers: [
      '따라서 추가 연구가 필요하다.',
      '이는 선행 연구와 일치한다.',
      '이에 대해서는 다음 절에서 논의한다.',
      '이는 시사하는 바가 크다.',
    ],
    swaps: [],
  },
  email: {
    openers: [
      '안녕하세요.',
      '늘 감사드립니다.',
      '말씀드린 대로,',
      '간단히 공유드립니다.',
      '지난번 논의에 이어,',
      '확인 부탁드립니다.',
    ],
    closers: [
      '감사합니다.',
      '궁금한 점이 있으시면 말씀해 주세요.',
      '좋은 하루 보내세요.',
      '회신 기다리겠습니다.',
      '잘 부탁드립니다.',
    ],
    swaps: [],
  },
  report: {
    openers: [
      '요약하면,',
      '최신 수치에 따르면,',
      '이번 분기 기준으로,',
      '주요 결과:',
      '전반적으로,',
      '데이터에 따르면,',
    ],
    closers: [
      '로 보고되었습니다.',
      '자세한 내용은 부록을 참고하십시오.',
      '이는 전 분기와 유사한 수준입니다.',
      '향후 계획은 아래와 같습니다.',
    ],
    swaps: [],
  },
  article: {
    openers: [
      '최근 보도에 따르면,',
      '이번 주 소식으로,',
      '관계자에 따르면,',
      '업계에서는',
      '전문가들은',
      '알려진 바에 따르면,',
    ],
    closers: [
      '자세한 내용은 추후 전해질 예정이다.',
      '반응은 엇갈리고 있다.',
      '귀추가 주목된다.',
      '논의는 계속될 전망이다.',
    ],
    swaps: [],
  },
  marketing: {
    openers: [
      '지금 만나보세요!',
      '반가운 소식!',
      '새롭게 선보입니다:',
      '기다리던 소식:',
      '특별한 혜택:',
      '당신을 위해 준비했습니다:',
    ],
    closers: [
      '놓치지 마세요!',
      '오늘 바로 경험해 보세요.',
      '한정 기간 혜택입니다.',
      '분명 마음에 드실 거예요.',
      '지금 바로 시작하세요!',
    ],
    swaps: [],
  },
  customer_service: {
    openers: [
      '문의해 주셔서 감사합니다.',
      '기다려 주셔서 감사합니다.',
      '불편을 드려 죄송합니다.',
      '도와드리겠습니다:',
      '말씀하신 내용 확인했습니다.',
      '좋은 질문 감사합니다.',
    ],
    closers: [
      '도움이 필요하시면 언제든 말씀해 주세요.',
      '좋은 하루 보내세요.',
      '양해해 주셔서 감사합니다.',
      '추가 문의는 언제든 환영합니다.',
      '빠르게 처리하겠습니다.',
    ],
    swaps: [],
  },
  general: {
    openers: ['간단히 말하면,', '다시 말해,', '요컨대,', '쉽게 말해,', '정리하면,', '참고로,'],
    closers: [
      '이상입니다.',
      '참고해 주세요.',
      '도움이 되길 바랍니다.',
      '자세한 내용은 나중에 전하겠습니다.',
      '그렇습니다.',
    ],
    swaps: [],
  },
};

/** A style request's wording → the register it asks for, or a way of shortening. */
const STYLE_HINTS: readonly (readonly [RegExp, string])[] = [
  [/short|concise|brief|tight|간결|짧게|요약/i, 'concise'],
  [/polite|courteous|respectful|정중|공손|예의/i, 'customer_service'],
  [/formal|professional|official|격식|공식/i, 'email'],
  [/academic|scholar|scientific|학술|논문/i, 'thesis'],
  [/persuasive|catchy|exciting|marketing|sell|홍보|광고|설득/i, 'marketing'],
  [/news|journalis|기사|보도/i, 'article'],
  [/report|summary|보고/i, 'report'],
  [/friendly|casual|warm|informal|친근|부드럽|캐주얼/i, 'friendly'],
];

const FRIENDLY: Record<'en' | 'ko', Register> = {
  en: {
    openers: ['Hey,', 'Hi there!', 'Good news:', 'Quick one:', 'Just so you know,', 'By the way,'],
    closers: ['Cheers!', 'Thanks a lot!', 'Talk soon.', 'Hope that works for you!', 'Have a good one!'],
    swaps: [
      ['would like', 'want'],
      ['receive', 'get'],
      ['assist', 'help'],
      ['inform', 'tell'],
      ['thank you', 'thanks'],
    ],
  },
  ko: {
    openers: [
      '안녕하세요!',
      '반가워요!',
      '참고로요,',
      '혹시 아셨나요?',
      '좋은 소식이에요:',
      '간단히 말씀드리면,',
    ],
    closers: ['고마워요!', '좋은 하루 보내요!', '또 연락할게요.', '편하게 말씀해 주세요!', '늘 감사해요.'],
    swaps: [],
  },
};

/** Words a shorter version can do without. */
const FILLERS_EN = /\b(?:really|very|just|actually|basically|quite|simply|that is to say|in order)\s+/gi;
const CONCISE: Record<'en' | 'ko', readonly string[]> = {
  en: ['In short:', 'Briefly:', 'Key point:', 'TL;DR:', 'Summary:', 'Bottom line:'],
  ko: ['요약:', '핵심:', '간단히:', '한 줄 요약:', '결론:', '요점:'],
};

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));
const TERMINAL = /[.!?…。！？)"”’]$/u;

/** Capitalised and ending with a punctuation mark, so openers and closers join it cleanly. */
function tidy(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length === 0) return t;
  const first = t[0]!.toUpperCase() + t.slice(1);
  return TERMINAL.test(first) ? first : `${first}.`;
}

/** "Notably," + "The meeting moved." → "Notably, the meeting moved." (not for "I", acronyms or Hangul). */
function join(opener: string, text: string): string {
  const continues = /[,:]$|\b(?:that|than)$/i.test(opener) && !/[.!?]$/.test(opener);
  const lowered =
    continues && /^[A-Z][a-z]/.test(text) && !/^I\b/.test(text)
      ? text[0]!.toLowerCase() + text.slice(1)
      : text;
  return `${opener} ${lowered}`;
}

function append(text: string, closer: string): string {
  // A closer that continues the sentence ("as reported.", "로 보고되었습니다.") replaces its full stop.
  if (/^[a-z로]/u.test(closer))
    return `${text.replace(/[.!?]$/, '')}${closer.startsWith('로') ? '' : ' '}${closer}`;
  return `${text} ${closer}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Applies the register's swaps that occur, at most `max` of them, keeping the first letter's case. */
function swap(text: string, swaps: Register['swaps'], max: number): string {
  let out = text;
  let done = 0;
  for (const [from, to] of swaps) {
    if (done >= max) break;
    const re = new RegExp(`\\b${escapeRegExp(from)}\\b`, 'i');
    const m = re.exec(out);
    if (!m) continue;
    const rep = /^[A-Z]/.test(m[0]) ? to[0]!.toUpperCase() + to.slice(1) : to;
    out = out.slice(0, m.index) + rep + out.slice(m.index + m[0].length);
    done++;
  }
  return out;
}

/** The list turned so that it starts at a place chosen by the key: different texts, different first picks. */
function rotate<T>(xs: readonly T[], key: string): T[] {
  if (xs.length === 0) return [];
  const k = Math.floor(uniformHash(key, 'offline-paraphraser') * xs.length);
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/** Candidates in the order an intensity prefers: weak edits words, moderate adds a frame, strong both ends. */
function registerCandidates(text: string, r: Register, k: 1 | 2 | 3, key: string): string[] {
  const base = tidy(text);
  const openers = rotate(r.openers, `${key}:o`);
  const closers = rotate(r.closers, `${key}:c`);
  const swapped1 = swap(base, r.swaps, 1);
  const swappedAll = swap(base, r.swaps, r.swaps.length);
  const weak = [swapped1, swappedAll, base, ...closers.slice(0, 2).map((c) => append(swapped1, c))];
  const moderate = [
    ...openers.map((o, i) => join(o, i % 2 === 0 ? swapped1 : base)),
    ...closers.map((c) => append(swapped1, c)),
  ];
  const strong: string[] = [];
  for (let d = 0; d < Math.max(openers.length, closers.length); d++) {
    for (let i = 0; i < openers.length; i++) {
      const c = closers[(i + d) % closers.length];
      if (c) strong.push(append(join(openers[i]!, swappedAll), c));
    }
  }
  const order =
    k === 1 ? [weak, moderate, strong] : k === 2 ? [moderate, weak, strong] : [strong, moderate, weak];
  return order.flat();
}

function styleCandidates(text: string, style: string, lang: 'en' | 'ko', key: string): string[] {
  const hint = STYLE_HINTS.find(([re]) => re.test(style))?.[1] ?? 'general';
  const table = lang === 'ko' ? KO : EN;
  if (hint === 'concise') {
    const short = tidy(text.replace(FILLERS_EN, '').replace(/\s*\([^)]*\)/g, ''));
    const first = tidy(short.split(/(?<=[.!?])\s+/)[0] ?? short);
    return [short, first, ...rotate(CONCISE[lang], key).map((o) => join(o, first))];
  }
  const r = hint === 'friendly' ? FRIENDLY[lang] : table[hint]!;
  return registerCandidates(text, r, 2, key);
}

/**
 * A deterministic stand-in for an LLM, so the whole wheel runs offline. Its candidates are the
 * input dressed in the option's register — weak: the register's words; moderate: an opening or a
 * closing of that kind of writing; strong: both and every word swap — or in what a style request
 * asks for (polite, formal, friendly, concise, …). They are distinct, never the input itself and
 * never numbered, and labelled provider "offline": never mistake them for model output.
 */
export function createOfflineParaphraser(): Paraphraser {
  return {
    provider: 'offline',
    model: OFFLINE_PARAPHRASER_MODEL,
    async paraphrase(input: ParaphraseInput): Promise<ParaphraseOutput> {
      const n = input.n ?? 3;
      const lang = input.language.startsWith('ko') ? 'ko' : 'en';
      const text = input.text.trim();
      const req = input.request;
      const table = lang === 'ko' ? KO : EN;
      const key = `${text}\u0000${JSON.stringify(req)}`;
      let pool: string[];
      if ('category' in req) {
        const k = req.intensity === 'weak' ? 1 : req.intensity === 'moderate' ? 2 : 3;
        pool = registerCandidates(text, table[req.category] ?? table.general!, k, key);
      } else {
        pool = styleCandidates(text, req.style_request, lang, key);
      }
      // Always enough: the general register's frames, then every opener × closer pair of it.
      const general = table.general!;
      pool.push(...registerCandidates(text, general, 2, `${key}:general`));
      for (const o of general.openers)
        for (const c of general.closers) pool.push(append(join(o, tidy(text)), c));
      // Never the input back, nor the input with only a full stop added.
      const seen = new Set<string>([text, tidy(text)]);
      const candidates: string[] = [];
      for (const c of pool) {
        if (candidates.length >= n) break;
        if (c.length === 0 || seen.has(c)) continue;
        seen.add(c);
        candidates.push(c);
      }
      return {
        candidates,
        provider: 'offline',
        model: OFFLINE_PARAPHRASER_MODEL,
        promptTokens: tokens(text) + 20,
        completionTokens: candidates.reduce((s, c) => s + tokens(c), 0),
        latencyMs: 0,
      };
    },
  };
}
