import type { ParaphraseInput, ParaphraseOutput, Paraphraser } from './paraphraser.ts';

export const OFFLINE_PARAPHRASER_MODEL = 'offline-paraphraser-v1';

const EN: Record<string, [string, string]> = {
  thesis: ['This study indicates that', 'Accordingly,'],
  email: ['I hope this message finds you well.', 'Kind regards.'],
  report: ['In summary,', 'as reported.'],
  article: ['According to recent reports,', ''],
  marketing: ['Discover it now:', '— don’t miss out!'],
  customer_service: ['Thank you for reaching out.', 'We are happy to help.'],
  general: ['', ''],
};
const KO: Record<string, [string, string]> = {
  thesis: ['본 연구에 따르면,', '따라서'],
  email: ['안녕하세요.', '감사합니다.'],
  report: ['요약하면,', '로 보고되었습니다.'],
  article: ['최근 보도에 따르면,', ''],
  marketing: ['지금 만나보세요!', '놓치지 마세요!'],
  customer_service: ['문의해 주셔서 감사합니다.', '도움이 필요하시면 언제든 말씀해 주세요.'],
  general: ['', ''],
};

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

/**
 * A deterministic stand-in for an LLM, so the whole wheel runs offline. Its candidates are the
 * input dressed in the option's register (stronger intensity, more of it) and are labelled
 * provider "offline": never mistake them for model output.
 */
export function createOfflineParaphraser(): Paraphraser {
  return {
    provider: 'offline',
    model: OFFLINE_PARAPHRASER_MODEL,
    async paraphrase(input: ParaphraseInput): Promise<ParaphraseOutput> {
      const n = input.n ?? 3;
      const ko = input.language.startsWith('ko');
      const text = input.text.trim();
      const req = input.request;
      let frames: string[];
      if ('category' in req) {
        const [pre, post] = (ko ? KO : EN)[req.category] ?? ['', ''];
        const k = req.intensity === 'weak' ? 1 : req.intensity === 'moderate' ? 2 : 3;
        frames = [
          `${k >= 2 ? `${pre} ` : ''}${text}`.trim(),
          `${pre} ${text} ${k >= 3 ? post : ''}`.trim(),
          `${text}${k >= 2 && post ? ` ${post}` : ''}`.trim(),
        ];
      } else {
        const style = req.style_request;
        frames = [`${text} (${style})`, `[${style}] ${text}`, `${text} — ${style}`];
      }
      const candidates: string[] = [];
      for (let i = 0; candidates.length < n; i++) {
        const base = frames[i % frames.length]!;
        candidates.push(i < frames.length ? base : `${base} (${i + 1})`);
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
