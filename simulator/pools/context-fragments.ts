import { mulberry32 } from '../../common/random.ts';
import type { ContextSample } from './contexts.ts';

/**
 * Hand-written sentence cores per category and language, with slots, discourse-marker prefixes and
 * sign-offs. Composing them gives a pool that varies in structure (the cores are all different
 * sentences, including some sloppy drafts, which is what users actually select for a rewrite)
 * and in vocabulary (the slots), rather than one template with numbers swapped.
 *
 * A core starting with `!` takes no prefix or suffix (it would not read naturally with one).
 * Korean particles are written `[을/를]`, `[이/가]`, `[은/는]`, `[와/과]`, `[으로/로]` and resolved
 * against the preceding syllable after the slots are filled.
 */
export interface SentenceBank {
  /** Discourse markers / greetings; one opens about a third of the sentences. */
  readonly prefixes: readonly string[];
  /** Sign-offs; one closes about a quarter of the sentences that end in punctuation. */
  readonly suffixes?: readonly string[];
  readonly slots: Readonly<Record<string, readonly string[]>>;
  /** Slots whose values go together (same index), e.g. a product and the benefit it offers. */
  readonly linked?: readonly (readonly string[])[];
  readonly cores: readonly string[];
}

type Lang = 'en' | 'ko';

export const SENTENCE_BANKS: Readonly<Record<string, Readonly<Record<Lang, SentenceBank>>>> = {
  thesis: {
    en: {
      prefixes: ['Moreover, ', 'However, ', 'In addition, ', 'Importantly, ', 'Nevertheless, '],
      slots: {
        method: [
          'a mixed-effects regression',
          'semi-structured interviews',
          'a difference-in-differences design',
          'thematic analysis',
          'a randomized controlled trial',
          'structural equation modeling',
          'a longitudinal panel survey',
          'grounded theory coding',
        ],
        field: [
          'second-language acquisition',
          'urban mobility',
          'organizational behavior',
          'public health',
          'computational linguistics',
          'labor economics',
          'environmental policy',
          'educational technology',
        ],
        var: [
          'perceived workload',
          'self-efficacy',
          'commute time',
          'household income',
          'screen time',
          'team size',
          'reading fluency',
          'social support',
        ],
        outcome: [
          'job satisfaction',
          'academic performance',
          'voter turnout',
          'medication adherence',
          'user retention',
          'vocabulary growth',
          'sleep quality',
          'innovation output',
        ],
        n: ['312', '1,024', '87', '2,450', '146', '538', '64', '903'],
        pop: [
          'undergraduate students',
          'nurses in tertiary hospitals',
          'small business owners',
          'first-year teachers',
          'older adults living alone',
          'remote software engineers',
          'rural households',
          'bilingual children',
        ],
      },
      cores: [
        'This study examines the relationship between {var} and {outcome} among {pop}.',
        'Data were collected from {n} {pop} through {method}.',
        'The findings suggest that {var} is a significant predictor of {outcome}.',
        'Prior research in {field} has largely overlooked the role of {var}.',
        'To address this gap, we employ {method} to test three competing hypotheses.',
        'These results should be interpreted with caution given the cross-sectional nature of the data.',
        'The effect of {var} on {outcome} remained significant after controlling for age and gender.',
        'Contrary to our expectations, {var} showed no meaningful association with {outcome}.',
        'Future work should replicate these findings with a larger and more diverse sample.',
        '!The remainder of this paper is organized as follows.',
        '!Section 2 reviews the literature on {field}, and Section 3 describes the data.',
        'Our analysis relies on {method}, which allows us to account for unobserved heterogeneity.',
        '!Taken together, the evidence points to a more nuanced picture than earlier accounts suggest.',
        'One limitation of this study is its reliance on self-reported measures of {var}.',
        'We argue that {outcome} cannot be fully explained without considering {var}.',
        'The sample consisted of {n} {pop}, of whom roughly half were recruited online.',
        'Robustness checks using alternative specifications yielded substantively similar estimates.',
        'This framework has been widely adopted in {field} over the past decade.',
        '!i think the results kind of show that {var} matters a lot for {outcome}',
        '!We thank the anonymous reviewers for their helpful comments on an earlier draft.',
        'A pilot study with {pop} informed the final design of the questionnaire.',
        'The theoretical contribution of this paper is twofold.',
        'Interview transcripts were coded independently by two researchers to ensure reliability.',
        '!Table 3 reports the descriptive statistics for all variables used in the analysis.',
        'Our model explains a substantial share of the variance in {outcome}.',
        'This pattern is consistent with the hypothesis that {var} buffers the effects of stress.',
        '!basically our method works better than the baseline in most cases',
        '!The study was approved by the institutional review board, and all participants gave informed consent.',
        'These findings have practical implications for policymakers in {field}.',
        'Missing values were handled using multiple imputation by chained equations.',
        'In contrast to earlier studies, we treat {var} as a dynamic rather than a fixed attribute.',
        'The proposed approach reduces estimation error without requiring additional data.',
        '!we used {method} because it is the best method for this kind of data',
        'Effect sizes were small to moderate, ranging from 0.12 to 0.34.',
      ],
    },
    ko: {
      prefixes: ['또한 ', '그러나 ', '특히 ', '한편 ', '이와 더불어 ', '따라서 '],
      slots: {
        var: [
          '인지된 업무 부담',
          '자기효능감',
          '통근 시간',
          '가구 소득',
          '스크린 타임',
          '팀 규모',
          '읽기 유창성',
          '사회적 지지',
        ],
        outcome: [
          '직무 만족도',
          '학업 성취도',
          '투표 참여율',
          '복약 순응도',
          '서비스 재이용 의도',
          '어휘 습득',
          '수면의 질',
          '혁신 성과',
        ],
        pop: [
          '대학생',
          '상급종합병원 간호사',
          '소상공인',
          '초임 교사',
          '독거 노인',
          '원격 근무 개발자',
          '농촌 가구',
          '이중언어 아동',
        ],
        method: [
          '혼합효과 회귀분석',
          '반구조화 면담',
          '이중차분법',
          '주제 분석',
          '무작위 대조 실험',
          '구조방정식 모형',
          '종단 패널 조사',
          '근거이론 코딩',
        ],
        field: [
          '제2언어 습득',
          '도시 교통',
          '조직 행동',
          '공중보건',
          '전산언어학',
          '노동경제학',
          '환경 정책',
          '교육공학',
        ],
        n: ['312', '1,024', '87', '2,450', '146', '538', '64', '903'],
      },
      cores: [
        '본 연구는 {pop}[을/를] 대상으로 {var}[와/과] {outcome} 간의 관계를 분석하였다.',
        '자료는 {method}[을/를] 통해 {pop} {n}명으로부터 수집되었다.',
        '분석 결과, {var}[은/는] {outcome}에 유의미한 정적 영향을 미치는 것으로 나타났다.',
        '기존 {field} 연구는 {var}의 역할을 충분히 고려하지 못했다는 한계가 있다.',
        '이러한 공백을 메우기 위해 본 연구는 {method}[을/를] 적용하였다.',
        '횡단 자료의 특성상 인과관계를 단정하기는 어렵다는 점에 유의해야 한다.',
        '연령과 성별을 통제한 후에도 {var}의 효과는 유의하게 유지되었다.',
        '예상과 달리 {var}[와/과] {outcome} 사이에는 뚜렷한 상관이 발견되지 않았다.',
        '후속 연구에서는 보다 크고 다양한 표본을 통해 본 결과를 재검증할 필요가 있다.',
        '!본 논문의 구성은 다음과 같다.',
        '!2장에서는 {field} 분야의 선행연구를 검토하고, 3장에서는 연구 방법을 기술한다.',
        '{method}[은/는] 관찰되지 않은 이질성을 통제할 수 있다는 장점이 있다.',
        '!종합하면, 본 연구의 결과는 기존 논의보다 복합적인 양상을 보여준다.',
        '본 연구의 한계는 {var}[을/를] 자기보고식 척도로 측정했다는 점이다.',
        '본 연구는 {var}[을/를] 고려하지 않고서는 {outcome}[을/를] 온전히 설명할 수 없다고 주장한다.',
        '표본은 {pop} {n}명으로 구성되었으며, 이 중 약 절반은 온라인으로 모집되었다.',
        '대안적 모형을 활용한 강건성 검증에서도 유사한 추정치가 도출되었다.',
        '이 분석틀은 지난 10년간 {field} 분야에서 널리 활용되어 왔다.',
        '!근데 결과를 보면 {var}[이/가] {outcome}에 꽤 큰 영향을 주는 것 같음',
        '!초고에 유익한 의견을 주신 익명의 심사위원들께 감사드린다.',
        '{pop}[을/를] 대상으로 한 예비 조사를 바탕으로 설문 문항을 최종 확정하였다.',
        '본 연구의 이론적 기여는 크게 두 가지로 요약할 수 있다.',
        '면담 전사본은 신뢰도 확보를 위해 두 명의 연구자가 독립적으로 코딩하였다.',
        '!<표 3>은 분석에 사용된 모든 변수의 기술통계를 제시한다.',
        '제안한 모형은 {outcome}의 분산을 상당 부분 설명하는 것으로 나타났다.',
        '이는 {var}[이/가] 스트레스의 부정적 효과를 완충한다는 가설과 일치한다.',
        '!우리 방법이 대부분의 경우에서 기존 방법보다 더 잘 되는 걸 확인했음',
        '!본 연구는 기관생명윤리위원회의 승인을 받았으며, 모든 참여자로부터 서면 동의를 얻었다.',
        '이러한 결과는 {field} 분야의 정책 입안자에게 실질적인 시사점을 제공한다.',
        '결측치는 연쇄방정식에 의한 다중대체법으로 처리하였다.',
        '선행연구와 달리 본 연구는 {var}[을/를] 고정된 속성이 아닌 변화하는 요인으로 간주한다.',
        '제안 기법은 추가 데이터 없이도 추정 오차를 줄일 수 있다.',
        '!이 데이터에는 {method}[이/가] 제일 좋은 방법이라서 이걸 썼다',
        '효과 크기는 0.12에서 0.34 사이로 작거나 중간 수준이었다.',
      ],
    },
  },
  email: {
    en: {
      prefixes: [
        'Hi team, ',
        'Following up on our call, ',
        'As discussed, ',
        'Quick note: ',
        'Good morning, ',
      ],
      suffixes: [' Thanks!', ' Best regards.', ' Cheers.'],
      slots: {
        doc: [
          'the revised budget',
          'the signed contract',
          'the Q3 forecast',
          'the onboarding checklist',
          'the meeting notes',
          'the updated proposal',
          'the travel itinerary',
          'the vendor quote',
        ],
        day: ['Friday', 'Monday morning', 'end of day Thursday', 'next Tuesday', 'the 15th', 'tomorrow noon'],
        meeting: [
          'the kickoff meeting',
          'our weekly sync',
          'the quarterly review',
          'the design walkthrough',
          'the client call',
          'the budget review',
        ],
        person: ['Jenna', 'Mr. Park', 'someone from finance', 'our legal counsel', 'Daniel', 'Ms. Choi'],
        topic: [
          'the pricing change',
          'the office move',
          'the hiring plan',
          'the new travel policy',
          'the delayed shipment',
          'the system migration',
        ],
      },
      cores: [
        'Could you send me {doc} by {day}?',
        'I have attached {doc} for your review.',
        'Just following up on my previous email about {topic}.',
        "I'm afraid I won't be able to join {meeting} due to a scheduling conflict.",
        'Would it be possible to move {meeting} to {day}?',
        'Please let me know if you have any questions or concerns.',
        "I'm writing to confirm what we agreed regarding {topic}.",
        'Thanks for the quick turnaround on {doc}.',
        '!Hi all, quick reminder that {meeting} starts in 15 minutes.',
        "I've copied {person} so they can weigh in on {topic}.",
        'Sorry for the late reply, I was out of the office last week.',
        'Can we get on a quick call to discuss {topic}?',
        "Per our conversation, I'll circulate {doc} to the wider team.",
        'Please review the attached file and share your feedback by {day}.',
        '!i need the numbers asap, can you send them today',
        'We would appreciate it if you could confirm receipt of {doc}.',
        'Unfortunately, the deadline for {topic} has been pushed back by two weeks.',
        'I wanted to loop you in on {topic} before it goes to leadership.',
        'Let me know which time slot works best for you before {day}.',
        'As a reminder, expense reports are due by {day}.',
        "I'd be happy to walk you through {doc} if that would help.",
        'Apologies for any confusion caused by my earlier message.',
        'Could you clarify who owns {topic} going forward?',
        '!The invoice has been paid, and the receipt is attached.',
        "I'll be on leave from {day}, and {person} will cover for me.",
        '!Looking forward to hearing your thoughts.',
        '!please check the attached and tell me if anything is wrong',
        '!Welcome to the team! Your onboarding session is scheduled for {day}.',
        'I noticed a few discrepancies in {doc} that we should fix before sending it out.',
        'Thank you for your patience while we sort out {topic}.',
        'Is there any update on {topic}? The client is asking.',
        '!hey can u resend {doc}, the link doesnt work',
      ],
    },
    ko: {
      prefixes: ['안녕하세요, ', '오늘 통화한 내용과 관련하여 ', '말씀드린 대로 ', '참고로 '],
      suffixes: [' 감사합니다.', ' 좋은 하루 보내세요.', ' 확인 부탁드립니다.'],
      slots: {
        doc: [
          '수정된 예산안',
          '서명된 계약서',
          '3분기 실적 전망 자료',
          '신규 입사자 체크리스트',
          '회의록',
          '수정 제안서',
          '출장 일정표',
          '업체 견적서',
        ],
        day: ['금요일', '다음 주 월요일', '목요일 오후', '이번 주 수요일', '15일', '내일 오전'],
        meeting: [
          '킥오프 회의',
          '주간 회의',
          '분기 리뷰',
          '디자인 검토 회의',
          '고객사 미팅',
          '예산 검토 회의',
        ],
        person: ['김 팀장님', '재무팀 담당자', '법무 담당자', '박 대리님', '최 과장님', '인사팀 담당자'],
        topic: [
          '가격 정책 변경 건',
          '사무실 이전 건',
          '채용 계획',
          '새 출장 규정',
          '배송 지연 건',
          '시스템 이전 작업',
        ],
      },
      cores: [
        '{doc}[을/를] {day}까지 보내주실 수 있을까요?',
        '검토하실 수 있도록 {doc}[을/를] 첨부해 드립니다.',
        '지난번 메일로 말씀드린 {topic} 관련하여 다시 연락드립니다.',
        '일정이 겹쳐 {meeting}에는 참석하기 어려울 것 같습니다.',
        '{meeting}[을/를] {day}[으로/로] 옮길 수 있을지 여쭙고 싶습니다.',
        '궁금하신 점이 있으시면 언제든지 말씀해 주세요.',
        '{topic}에 대해 합의한 내용을 확인차 메일 드립니다.',
        '{doc}[을/를] 빠르게 정리해 주셔서 감사합니다.',
        '{meeting}[이/가] 15분 뒤에 시작된다는 점 다시 한번 알려드립니다.',
        '{topic}에 대한 의견을 듣고자 {person}[을/를] 참조로 추가했습니다.',
        '!지난주 휴가로 인해 회신이 늦어져 죄송합니다.',
        '{topic} 관련해서 잠깐 통화 가능하실까요?',
        '{doc}[은/는] 팀 전체에 공유하겠습니다.',
        '첨부 파일 확인하시고 {day}까지 피드백 부탁드립니다.',
        '!숫자 자료 오늘 중으로 꼭 좀 보내주세요 급합니다',
        '{doc}[을/를] 잘 받으셨는지 확인 부탁드립니다.',
        '아쉽게도 {topic}의 마감 일정이 2주 연기되었습니다.',
        '경영진 보고 전에 {topic} 내용을 미리 공유드립니다.',
        '{day} 중 편하신 시간을 알려주시면 일정 맞추겠습니다.',
        '경비 정산 서류는 {day}까지 제출해 주시기 바랍니다.',
        '필요하시면 {doc}에 대해 직접 설명드리겠습니다.',
        '!앞서 보낸 메일로 혼선을 드려 죄송합니다.',
        '앞으로 {topic}[은/는] 어느 분이 담당하시는지 알려주실 수 있을까요?',
        '!대금 지급이 완료되어 영수증을 첨부합니다.',
        '{day}부터 휴가라 그동안은 {person}께서 업무를 대신 맡아주실 예정입니다.',
        '!회신 기다리겠습니다.',
        '!첨부한 파일 보시고 이상한 부분 있으면 알려줘요',
        '!입사를 환영합니다! 오리엔테이션은 {day}에 진행될 예정입니다.',
        '{doc}에서 몇 군데 수치가 맞지 않아 발송 전에 수정이 필요해 보입니다.',
        '{topic}[을/를] 정리하는 동안 기다려 주셔서 감사합니다.',
        '{topic}[은/는] 진행 상황이 어떻게 되나요? 고객사에서 문의가 왔습니다.',
        '!{doc} 링크가 안 열리는데 다시 보내주실 수 있나요',
      ],
    },
  },
  report: {
    en: {
      prefixes: [
        'In summary, ',
        'Notably, ',
        'At the same time, ',
        'According to the latest data, ',
        'Overall, ',
      ],
      slots: {
        metric: [
          'revenue',
          'customer churn',
          'average handling time',
          'the conversion rate',
          'inventory turnover',
          'the net promoter score',
          'operating margin',
          'the on-time delivery rate',
        ],
        pct: ['4.2%', '12%', '0.8 percentage points', '18%', '7.5%', '3%'],
        period: ['Q3', 'the first half', 'September', 'the last quarter', 'the past six weeks', 'October'],
        month: ['September', 'October', 'March', 'June'],
        cmp: ['last month', 'the same period last year', 'the previous quarter', 'the plan'],
        unit: [
          'the Seoul branch',
          'the APAC region',
          'the logistics team',
          'the mobile app',
          'the B2B segment',
          'the Busan plant',
          'the online store',
        ],
        project: [
          'the ERP migration',
          'the warehouse automation project',
          'the pricing pilot',
          'the CRM rollout',
          'the cost-reduction program',
          'the new onboarding flow',
        ],
      },
      cores: [
        '{metric} rose by {pct} in {period}, driven mainly by {unit}.',
        'Compared with {cmp}, {metric} declined by {pct}.',
        '{project} is currently two weeks behind schedule.',
        'The main risk for next quarter is a shortage of qualified staff in {unit}.',
        'We recommend postponing {project} until the budget is approved.',
        '!Key findings are summarized in the table below.',
        '{unit} met its target for {metric} for the third consecutive month.',
        'Costs exceeded the plan by {pct}, largely due to higher freight rates.',
        'Action items from the last review have been assigned to their owners.',
        'The root cause of the outage was a misconfigured load balancer.',
        'Headcount remained flat, while overtime hours increased by {pct}.',
        'By the end of {month}, {project} had delivered roughly 60% of the planned savings.',
        'Customer complaints related to delivery fell to their lowest level this year.',
        'We need a decision on {project} by the next steering committee meeting.',
        '{metric} is expected to stabilize once the seasonal effect wears off.',
        'The survey response rate was lower than anticipated, which limits the conclusions we can draw.',
        '!sales went down a bit this month because of the holidays i guess',
        'Three of the five milestones for {project} were completed on time.',
        'Overall performance in {period} was in line with the forecast.',
        'Further analysis is required to determine whether the trend will persist.',
        '{unit} reported a {pct} improvement in {metric} after the process change.',
        '!Budget utilization stands at 72% with one quarter remaining.',
        'The team proposes three options, each with a different cost and risk profile.',
        'There were no major safety incidents during the reporting period.',
        'Going forward, we will track {metric} on a weekly basis.',
        '!the project is delayed, we dont know when it will finish',
        'The pilot in {unit} suggests that the approach can be scaled company-wide.',
        '!Please refer to Appendix B for the detailed breakdown by region.',
        'Supplier lead times have lengthened, putting pressure on {metric}.',
        '!This report covers activities in {period} and outlines priorities for the next quarter.',
        '!{metric} numbers for {unit} are still not final, will update next week',
        'Two vacancies in {unit} have been filled, and the backlog is shrinking.',
      ],
    },
    ko: {
      prefixes: ['요약하면, ', '특히 ', '한편 ', '최신 집계에 따르면 ', '전반적으로 '],
      slots: {
        metric: [
          '매출',
          '고객 이탈률',
          '평균 처리 시간',
          '전환율',
          '재고 회전율',
          '순추천지수',
          '영업이익률',
          '정시 배송률',
        ],
        pct: ['4.2%', '12%', '0.8%p', '18%', '7.5%', '3%'],
        period: ['3분기', '상반기', '9월', '지난 분기', '최근 6주간', '10월'],
        month: ['9월', '10월', '3월', '6월'],
        cmp: ['전월', '전년 동기', '전 분기', '계획'],
        unit: ['서울 지점', '아시아태평양 지역', '물류팀', '모바일 앱', 'B2B 부문', '부산 공장', '온라인몰'],
        project: [
          'ERP 전환 프로젝트',
          '물류 자동화 사업',
          '가격 시범 운영',
          'CRM 도입 과제',
          '원가 절감 프로그램',
          '신규 온보딩 개편',
        ],
      },
      cores: [
        '{period} {metric}[은/는] {pct} 증가했으며, 주로 {unit}의 성장이 기여함.',
        '{cmp} 대비 {metric}[이/가] {pct} 감소함.',
        '{project}[은/는] 현재 예정보다 2주 지연되고 있습니다.',
        '다음 분기의 주요 리스크는 {unit}의 전문 인력 부족임.',
        '예산 승인 전까지 {project} 착수를 보류할 것을 권고합니다.',
        '!주요 결과는 아래 표에 요약하였습니다.',
        '{unit}[은/는] 3개월 연속 {metric} 목표를 달성했습니다.',
        '운임 상승의 영향으로 비용이 계획 대비 {pct} 초과됨.',
        '지난 회의의 후속 조치는 각 담당자에게 배정 완료하였습니다.',
        '장애의 근본 원인은 로드밸런서 설정 오류로 확인됨.',
        '인원은 변동이 없었으나 초과 근무 시간은 {pct} 늘었습니다.',
        '{month} 말 기준 {project}[은/는] 목표 절감액의 약 60%를 달성함.',
        '배송 관련 고객 불만은 올해 최저 수준으로 감소했습니다.',
        '다음 운영위원회 전까지 {project}에 대한 의사결정이 필요합니다.',
        '계절적 요인이 해소되면 {metric}[은/는] 안정될 것으로 예상됨.',
        '설문 응답률이 예상보다 낮아 결론을 일반화하기에는 한계가 있음.',
        '!이번달 매출 좀 떨어졌는데 아마 연휴 때문인듯',
        '{project}의 5개 마일스톤 중 3개가 일정대로 완료되었습니다.',
        '{period} 전체 실적은 전망치에 부합하는 수준이었음.',
        '추세가 지속될지 판단하기 위해 추가 분석이 필요합니다.',
        '공정 개선 이후 {unit}의 {metric}[이/가] {pct} 개선되었습니다.',
        '!분기를 하나 남긴 현재 예산 집행률은 72%임.',
        '팀은 비용과 리스크가 서로 다른 세 가지 대안을 제안합니다.',
        '보고 기간 중 중대 안전사고는 발생하지 않았음.',
        '향후 {metric}[은/는] 주 단위로 모니터링할 예정입니다.',
        '!프로젝트 지연되고 있고 언제 끝날지 아직 모름',
        '{unit} 시범 운영 결과, 전사 확대 적용이 가능할 것으로 판단됨.',
        '!지역별 세부 내역은 부록 B를 참고하시기 바랍니다.',
        '공급업체 납기가 길어지면서 {metric}에 부담이 커지고 있음.',
        '!본 보고서는 {period} 주요 활동을 정리하고 다음 분기 우선순위를 제시함.',
        '!{unit} {metric} 수치는 아직 확정 안 됐고 다음 주에 업데이트 예정',
        '{unit}의 공석 두 자리가 충원되어 적체 업무가 줄어들고 있습니다.',
      ],
    },
  },
  article: {
    en: {
      prefixes: ['Meanwhile, ', 'Separately, ', 'In a related development, '],
      slots: {
        city: ['Seoul', 'Busan', 'Incheon', 'Daejeon', 'Gwangju', 'the capital'],
        official: [
          'a ministry spokesperson',
          "the city's mayor",
          'the central bank governor',
          'a senior police official',
          'the health minister',
          'an industry analyst',
        ],
        agency: [
          'the Ministry of Environment',
          'the Bank of Korea',
          'the city council',
          'the national weather service',
          'the transport ministry',
          'the Fair Trade Commission',
        ],
        disaster: ['the heavy rainfall', 'the wildfire', 'the typhoon', 'the snowstorm'],
        incident: [
          'the fire',
          'the power outage',
          'the data breach',
          'the bridge collapse',
          'the subway strike',
        ],
        count: ['1,200', '350', '4,800', '12,000', '90', '2,300'],
        few: ['three', 'twelve', 'five', '27'],
        company: [
          'a major chipmaker',
          'a local startup',
          "the country's largest carrier",
          'an electric vehicle maker',
          'a regional bank',
          'a food delivery platform',
        ],
      },
      cores: [
        '!{agency} announced on Tuesday that it would expand the program nationwide next year.',
        'More than {count} residents were evacuated as {disaster} continued into the night.',
        '{official} said the measures were necessary to restore public confidence.',
        'The decision drew sharp criticism from opposition lawmakers.',
        '{company} said it plans to hire {count} workers over the next two years.',
        'Officials have not yet disclosed the cause of {incident}.',
        'The number of foreign visitors to {city} rose 18 percent from a year earlier.',
        'Analysts expect the trend to continue through the end of the year.',
        'Traffic across {city} was backed up for hours following {incident}.',
        'The bill, which passed with broad support, takes effect in January.',
        'Experts warn that rising housing costs could push young families out of {city}.',
        'According to {agency}, the figures are the highest since records began.',
        'Residents interviewed on Monday expressed frustration over the slow response.',
        'Shares of {company} fell 6 percent in early trading after the announcement.',
        'The festival is expected to draw {count} visitors over three days.',
        'It is the third such incident reported this month.',
        '{official} declined to comment on the ongoing investigation.',
        'The new policy will apply to all public schools starting next semester.',
        'Critics argue the plan does little to address the underlying problem.',
        '!so the city finally opened the new bridge after like five years of delays',
        'Local businesses say they have yet to recover from {disaster}.',
        'The report, released Thursday, paints a mixed picture of the economy.',
        'Police said {few} people had been questioned in connection with the case.',
        'The central bank kept its benchmark rate unchanged for a fifth straight meeting.',
        'Volunteers worked through the weekend to clear debris left by {disaster}.',
        'The move is widely seen as an attempt to win over younger voters.',
        '{agency} said it would review safety standards at all similar facilities.',
        'Tickets for the concert sold out within minutes, organizers said.',
        'The study, published in a peer-reviewed journal, has not been independently verified.',
        'Authorities urged residents to stay indoors until the warning is lifted.',
        '!{company} is going to build a new factory in {city}, sources say',
        'Rents in {city} have climbed for eleven consecutive months, data showed.',
      ],
    },
    ko: {
      prefixes: ['한편 ', '이와 관련해 ', '앞서 ', '이날 ', '또한 '],
      slots: {
        city: ['서울', '부산', '인천', '대전', '광주', '수도권'],
        official: [
          '정부 관계자',
          '시장',
          '한국은행 총재',
          '경찰 고위 관계자',
          '보건복지부 장관',
          '업계 전문가',
        ],
        agency: ['환경부', '한국은행', '시의회', '기상청', '국토교통부', '공정거래위원회'],
        disaster: ['집중호우', '산불', '태풍', '폭설'],
        incident: ['화재', '정전 사고', '개인정보 유출 사고', '교량 붕괴 사고', '지하철 파업'],
        count: ['1,200', '350', '4,800', '1만2천', '90', '2,300'],
        few: ['3', '12', '5', '27'],
        company: [
          '국내 대형 반도체 기업',
          '지역 스타트업',
          '국내 최대 항공사',
          '전기차 제조사',
          '지방은행',
          '배달 플랫폼 업체',
        ],
      },
      cores: [
        '{agency}[은/는] 내년부터 해당 사업을 전국으로 확대한다고 밝혔다.',
        '{disaster}[이/가] 밤늦게까지 이어지면서 주민 {count}여 명이 대피했다.',
        '{official}[은/는] 신뢰 회복을 위해 불가피한 조치였다고 설명했다.',
        '이번 결정에 대해 야당 의원들은 강하게 비판했다.',
        '{company}[은/는] 향후 2년간 {count}명을 신규 채용할 계획이라고 밝혔다.',
        '당국은 아직 {incident}의 정확한 원인을 공개하지 않았다.',
        '{city}[을/를] 찾은 외국인 관광객 수는 전년 대비 18% 증가했다.',
        '전문가들은 이러한 추세가 연말까지 이어질 것으로 내다봤다.',
        '{incident} 여파로 {city} 곳곳에서 수 시간 동안 교통 정체가 빚어졌다.',
        '폭넓은 지지를 받아 통과된 이 법안은 내년 1월부터 시행된다.',
        '전문가들은 치솟는 주거비가 젊은 가구를 {city} 밖으로 밀어낼 수 있다고 경고했다.',
        '{agency}에 따르면 이번 수치는 관련 통계 작성 이후 최고치다.',
        '월요일 만난 주민들은 더딘 대응에 불만을 드러냈다.',
        '발표 직후 {company}의 주가는 장 초반 6% 하락했다.',
        '이번 축제에는 사흘간 {count}여 명의 방문객이 몰릴 것으로 예상된다.',
        '이달 들어 비슷한 사고가 보고된 것은 이번이 세 번째다.',
        '{official}[은/는] 진행 중인 수사에 대해서는 언급을 피했다.',
        '새 정책은 다음 학기부터 전국 공립학교에 적용된다.',
        '비판론자들은 이번 계획이 근본적인 문제를 해결하지 못한다고 지적했다.',
        '!시에서 드디어 다리를 개통했는데 거의 5년이나 늦어진 거임',
        '지역 상인들은 아직 {disaster} 피해에서 회복하지 못했다고 호소했다.',
        '목요일 발표된 보고서는 경기에 대해 엇갈린 진단을 내놓았다.',
        '경찰은 이번 사건과 관련해 {few}명을 조사했다고 밝혔다.',
        '한국은행은 기준금리를 다섯 차례 연속 동결했다.',
        '자원봉사자들은 주말 내내 {disaster}[이/가] 남긴 잔해를 치웠다.',
        '이번 조치는 청년층 표심을 얻기 위한 포석으로 풀이된다.',
        '{agency}[은/는] 유사 시설 전체의 안전 기준을 재점검하겠다고 밝혔다.',
        '주최 측에 따르면 공연 티켓은 판매 시작 몇 분 만에 매진됐다.',
        '해당 연구는 학술지에 게재됐지만 아직 독립적으로 검증되지는 않았다.',
        '당국은 경보가 해제될 때까지 실내에 머물 것을 당부했다.',
        '!{company}[이/가] {city}에 새 공장 짓는다는 얘기가 업계에서 돌고 있음',
        '{city}의 전셋값은 11개월 연속 상승한 것으로 집계됐다.',
      ],
    },
  },
  marketing: {
    en: {
      prefixes: ['Big news! ', 'Hey there! ', 'Psst, '],
      slots: {
        product: [
          'our new wireless speaker',
          'the Summer Glow serum',
          'the Pro blender',
          'our cold brew subscription',
          'the AeroLite backpack',
          'the smart thermostat',
          'our weekly meal kit',
          'the 4K action camera',
        ],
        benefit: [
          'room-filling sound',
          'glowing skin in two weeks',
          'smoothies in thirty seconds',
          'cafe-quality coffee at home',
          'all-day comfort on the go',
          'lower heating bills',
          'dinner on the table in 20 minutes',
          'crisp footage of every adventure',
        ],
        offer: [
          '20% off',
          'free shipping',
          'a free gift',
          'buy-one-get-one pricing',
          'an extra month free',
          'early-bird pricing',
        ],
        deadline: [
          'this weekend only',
          'until Sunday',
          'while supplies last',
          'for the first 100 customers',
          'through the end of the month',
        ],
      },
      linked: [['product', 'benefit']],
      cores: [
        'Meet {product}: {benefit}, finally made simple.',
        'Get {offer} on {product}, {deadline}.',
        'Say goodbye to compromises and hello to {benefit}.',
        "{product} is back in stock, and it's better than ever.",
        'Join over 50,000 happy customers who made the switch.',
        'Why settle for less when you can have {benefit}?',
        'Sign up today and get {offer} on your first order.',
        'Limited edition colors are available {deadline}.',
        'Designed in Seoul, loved around the world.',
        "Don't miss out: {offer} ends soon.",
        '!our product is good and cheap, please buy it',
        'Upgrade to {product} and enjoy {benefit}.',
        'Treat yourself to {benefit} with {product}.',
        'Tag us in your photos for a chance to win {product}.',
        "Small changes, big results: that's the promise of {product}.",
        'Free returns within 30 days, no questions asked.',
        'Be the first to know about new arrivals and exclusive deals.',
        '!The wait is over: {product} is finally here.',
        'Experience {benefit} without breaking the bank.',
        "Refer a friend and you'll both get {offer}.",
        'Crafted from recycled materials, because the planet matters too.',
        'This is your last chance to get {offer} on {product}.',
        "Thousands of five-star reviews can't be wrong.",
        'Try it risk-free for 14 days.',
        '!new collection out now check it out',
        "Whether you're commuting or traveling, {product} keeps up with you.",
        "We've reimagined {product} from the ground up.",
        'Stock is running low, so order now to avoid disappointment.',
        'Your morning routine just got a serious upgrade.',
        'Bring home {product} today and feel the difference.',
        '!{product} is really good you should try it, {offer} now',
        'Only {deadline}: {offer} on everything in the store.',
      ],
    },
    ko: {
      prefixes: ['단독 공개! ', '주목! ', '특별한 소식! '],
      slots: {
        product: [
          '새로운 무선 스피커',
          '썸머 글로우 세럼',
          '프로 블렌더',
          '콜드브루 정기구독',
          '에어로라이트 백팩',
          '스마트 온도조절기',
          '주간 밀키트',
          '4K 액션캠',
        ],
        benefit: [
          '공간을 가득 채우는 사운드',
          '2주 만에 달라지는 피부 결',
          '30초 만에 완성되는 스무디',
          '집에서 즐기는 카페 퀄리티 커피',
          '하루 종일 가벼운 착용감',
          '확 줄어든 난방비',
          '20분이면 완성되는 저녁 식사',
          '모든 순간을 선명하게 담는 화질',
        ],
        offer: ['20% 할인', '무료 배송', '사은품 증정', '1+1 혜택', '한 달 무료 이용', '얼리버드 특가'],
        deadline: ['이번 주말 단 이틀', '일요일까지', '재고 소진 시까지', '선착순 100명', '이달 말까지'],
      },
      linked: [['product', 'benefit']],
      cores: [
        '{benefit}, 이제 {product}[으로/로] 간편하게 누리세요.',
        '{deadline} {product} {offer}!',
        '타협은 이제 그만, {benefit}[을/를] 만나보세요.',
        '{product} 재입고! 더 좋아져서 돌아왔습니다.',
        '이미 5만 명의 고객이 선택했습니다.',
        '{benefit}, 더 이상 미루지 마세요.',
        '지금 가입하면 첫 주문 {offer}!',
        '한정판 컬러는 {deadline}만 만나보실 수 있어요.',
        '서울에서 디자인하고 전 세계가 사랑하는 브랜드.',
        '놓치지 마세요, {offer} 곧 종료됩니다.',
        '!저희 제품 좋고 싸요 많이 사주세요',
        '{product}[으로/로] 업그레이드하고 {benefit}[을/를] 경험해 보세요.',
        '나에게 주는 작은 선물, {product}.',
        '인증샷 올리고 {product} 받아가세요!',
        '작은 변화, 큰 차이. {product}[이/가] 약속합니다.',
        '30일 이내 무료 반품, 이유는 묻지 않습니다.',
        '신상품과 단독 혜택 소식을 가장 먼저 받아보세요.',
        '기다리던 {product}, 드디어 출시!',
        '부담 없는 가격으로 {benefit}[을/를] 누려보세요.',
        '친구를 추천하면 두 분 모두 {offer}!',
        '지구를 생각한 재활용 소재로 만들었습니다.',
        '{product} {offer}, 마지막 기회입니다.',
        '수천 개의 별점 5점 리뷰가 증명합니다.',
        '14일 동안 부담 없이 체험해 보세요.',
        '!신상 나왔어요 구경하러 오세요~',
        '출퇴근길에도, 여행길에도 {product}[이/가] 함께합니다.',
        '{product}, 처음부터 다시 설계했습니다.',
        '재고가 얼마 남지 않았어요. 서둘러 주문하세요!',
        '당신의 아침 루틴이 달라집니다.',
        '오늘 {product}[을/를] 만나고 차이를 느껴보세요.',
        '!{product} 진짜 좋아요 지금 {offer} 하니까 한번 써보세요',
        '{deadline}, 전 상품 {offer}!',
      ],
    },
  },
  customer_service: {
    en: {
      prefixes: ['Hello, ', 'Thank you for contacting us. ', 'Dear customer, ', 'Hi there, '],
      suffixes: [' Have a great day!', ' Thank you for your understanding.'],
      slots: {
        parcel: ['your order', 'the replacement part', 'your package', 'the exchange item'],
        case: ['your exchange request', 'the repair ticket', 'your warranty claim', 'your refund request'],
        issue: [
          'a delay at our warehouse',
          'a payment processing error',
          'an address mismatch',
          'a system update',
          'unusually high order volumes',
          'a courier issue',
        ],
        time: [
          'within 24 hours',
          'in 3–5 business days',
          'by tomorrow afternoon',
          'within two business days',
          'by the end of this week',
        ],
        channel: [
          'the app',
          'our website',
          'the order history page',
          'your account settings',
          'the link in your confirmation email',
        ],
      },
      cores: [
        "We're sorry for the inconvenience caused by {issue}.",
        '{parcel} has been shipped and should arrive {time}.',
        'Could you please share your order number so we can look into this?',
        "I completely understand your frustration, and I'll do my best to help.",
        'Your refund has been processed and will appear on your statement {time}.',
        'You can track the status of {case} at any time through {channel}.',
        'Unfortunately, this item is no longer covered by the warranty.',
        "We've escalated your case to our technical team for further review.",
        'Thank you for your patience while we investigate the issue.',
        '!Is there anything else I can help you with today?',
        'The delay was caused by {issue}, and we apologize for the trouble.',
        'A replacement will be sent free of charge {time}.',
        'To cancel your subscription, please go to {channel}.',
        '!we checked and its not our fault, the courier lost it',
        "I've applied a 10% discount to your next purchase as a gesture of goodwill.",
        'Please make sure the product is unused and in its original packaging.',
        '!Our support team is available from 9 a.m. to 6 p.m. on weekdays.',
        'We have received your request and will get back to you {time}.',
        'Could you send us a photo of the damaged item?',
        "I'm afraid we can't change the delivery address once the order has shipped.",
        'Your feedback has been shared with the relevant team.',
        "For security reasons, we can't share account details over chat.",
        "It looks like {parcel} was delivered to the building's front desk.",
        'Please try restarting the device and let us know if the problem persists.',
        '!you need to send the receipt or we cant do anything',
        "We'd be glad to arrange an exchange for a different size.",
        '!Your ticket number is CS-20481; please keep it for future reference.',
        'We truly value you as a customer and hope to serve you again.',
        'The item you requested is out of stock, but we expect a restock {time}.',
        "I've forwarded your complaint to the store manager, who will contact you directly.",
        '!sorry the delay is because of {issue}, we will fix it soon',
        'We noticed {case} is still pending because of {issue}.',
        "We've issued a prepaid return label, which you can download from {channel}.",
        "If {parcel} hasn't arrived {time}, please reply to this message and we'll investigate.",
        "I'm so sorry to hear that {parcel} arrived damaged.",
        'Could you confirm the email address on your account so I can update {case}?',
      ],
    },
    ko: {
      prefixes: ['안녕하세요 고객님, ', '문의 주셔서 감사합니다. ', '고객님, '],
      suffixes: [' 좋은 하루 되세요.', ' 감사합니다.'],
      slots: {
        parcel: ['주문하신 상품', '교체 부품', '보내드린 택배', '교환 상품'],
        case: ['교환 요청 건', '수리 접수 건', '보증 수리 요청', '환불 요청 건'],
        issue: [
          '물류센터 출고 지연',
          '결제 처리 오류',
          '배송지 정보 불일치',
          '시스템 점검',
          '주문량 급증',
          '택배사 사정',
        ],
        time: [
          '24시간 이내에',
          '영업일 기준 3~5일 이내에',
          '내일 오후까지',
          '2영업일 이내에',
          '이번 주 안에',
        ],
        channel: ['앱', '홈페이지', '주문 내역 페이지', '계정 설정 메뉴', '주문 확인 메일의 링크'],
      },
      cores: [
        '{issue}[으로/로] 불편을 드려 대단히 죄송합니다.',
        '{parcel}[은/는] 발송이 완료되었으며 {time} 도착할 예정입니다.',
        '확인을 위해 주문번호를 알려주시겠어요?',
        '고객님의 불편한 마음 충분히 이해하며, 최선을 다해 도와드리겠습니다.',
        '환불 처리가 완료되었으며, {time} 카드사에서 확인하실 수 있습니다.',
        '{case}의 진행 상황은 {channel}에서 언제든지 확인하실 수 있습니다.',
        '죄송하지만 해당 제품은 보증 기간이 만료되었습니다.',
        '고객님의 문의는 기술팀에 전달되어 추가 검토 중입니다.',
        '문제를 확인하는 동안 기다려 주셔서 감사합니다.',
        '!더 도와드릴 일이 있으실까요?',
        '이번 지연은 {issue} 때문이며, 불편을 드려 죄송합니다.',
        '교체 상품은 {time} 무상으로 보내드리겠습니다.',
        '구독 해지는 {channel}에서 직접 하실 수 있습니다.',
        '!확인해보니 저희 잘못 아니고 택배사에서 분실한 거예요',
        '불편을 드린 점을 감안하여 다음 구매 시 사용 가능한 10% 할인 쿠폰을 적용해 드렸습니다.',
        '반품 시 제품은 미사용 상태로 원래 포장 그대로 보내주셔야 합니다.',
        '!고객센터는 평일 오전 9시부터 오후 6시까지 운영됩니다.',
        '요청하신 내용은 접수되었으며 {time} 답변드리겠습니다.',
        '파손된 상품의 사진을 보내주시면 빠르게 확인해 드리겠습니다.',
        '상품이 이미 출고되어 배송지 변경이 어려운 점 양해 부탁드립니다.',
        '남겨주신 의견은 담당 부서에 전달하였습니다.',
        '보안상 채팅으로는 계정 정보를 안내해 드릴 수 없습니다.',
        '{parcel}[은/는] 건물 1층 관리실에 배송된 것으로 확인됩니다.',
        '기기를 재부팅하신 후에도 문제가 계속되면 다시 말씀해 주세요.',
        '!영수증 안 보내주시면 처리 못 해드려요',
        '다른 사이즈로 교환을 원하시면 바로 도와드리겠습니다.',
        '!접수 번호는 CS-20481이며, 추후 문의 시 참고해 주세요.',
        '앞으로도 더 나은 서비스로 보답하겠습니다.',
        '문의하신 상품은 현재 품절이며, {time} 재입고될 예정입니다.',
        '말씀하신 불만 사항은 매장 책임자에게 전달했으며, 직접 연락드릴 예정입니다.',
        '!{issue} 때문에 그런 거라 곧 해결될 거예요',
        '{issue}[으로/로] 인해 {case}[이/가] 아직 처리 대기 중입니다.',
        '반품 송장은 {channel}에서 출력하실 수 있습니다.',
        '{parcel}[이/가] {time} 도착하지 않으면 이 메시지로 회신해 주세요.',
        '{parcel}[이/가] 파손된 상태로 도착했다니 정말 죄송합니다.',
        '{case} 처리를 위해 계정에 등록된 이메일 주소를 확인해 주시겠어요?',
      ],
    },
  },
  general: {
    en: {
      prefixes: ['Hey, ', 'By the way, ', 'Oh, and ', 'So, '],
      slots: {
        food: ['ramen', 'tacos', 'bibimbap', 'pizza', 'sushi', 'fried chicken'],
        place: [
          'the park',
          'the new cafe downtown',
          "my parents' place",
          'the library',
          'the beach',
          'the gym',
        ],
        when: ['this weekend', 'tonight', 'tomorrow', 'on Saturday', 'after work', 'next Friday'],
        thing: ['my phone', 'my passport', 'the car keys', 'my wallet', 'the umbrella', 'my earbuds'],
        media: [
          'that new drama',
          'the documentary',
          'the new movie',
          'that cooking show',
          'the series finale',
        ],
      },
      cores: [
        'Do you want to grab {food} {when}?',
        "I'm heading to {place} {when} if you want to come along.",
        "I can't find {thing} anywhere, have you seen it?",
        'It was so nice catching up with you yesterday.',
        '!Honestly, I think we should just stay home and relax.',
        "The weather has been crazy lately, hasn't it?",
        'I finally watched {media} and I loved it.',
        '!can u remind me to call mom {when}',
        "Let's meet at {place} around seven.",
        "I've been meaning to tell you something for a while.",
        'Thanks again for helping me move last weekend.',
        'We should plan a trip somewhere warm this winter.',
        'My cat knocked over a glass of water this morning.',
        "I'm running about ten minutes late, sorry!",
        '!Happy birthday! Hope you have an amazing day.',
        'I tried making {food} at home and it was a disaster.',
        'Did you watch {media} yet? No spoilers, please.',
        "I'm thinking of learning to play the guitar this year.",
        "Traffic is terrible, so I'll probably skip {place} {when}.",
        'Could you pick up some milk on your way home?',
        '!idk what to get her for her birthday any ideas',
        "It's been ages since we last saw each other.",
        "I left {thing} at {place}, can you check if it's there?",
        'That restaurant was way better than I expected.',
        "I'm so tired that I might go to bed early {when}.",
        'Let me know when you get home safely.',
        'The kids keep asking about going to {place} again.',
        'I really need to start exercising more.',
        'Sorry I missed your call, I was in the shower.',
        "We're having a small get-together {when}, you should come!",
        '!lol that was the funniest thing ive seen all week',
        'Is it just me, or has {food} gotten really expensive lately?',
      ],
    },
    ko: {
      prefixes: ['아 그리고 ', '근데 ', '참, ', '있잖아, '],
      slots: {
        food: ['라면', '떡볶이', '비빔밥', '피자', '초밥', '치킨'],
        place: ['공원', '시내에 새로 생긴 카페', '부모님 댁', '도서관', '바닷가', '헬스장'],
        when: ['이번 주말에', '오늘 저녁에', '내일', '토요일에', '퇴근하고', '다음 주 금요일에'],
        thing: ['휴대폰', '여권', '자동차 키', '지갑', '우산', '이어폰'],
        media: ['그 드라마', '그 다큐멘터리', '새로 나온 영화', '그 예능', '그 시리즈 마지막 화'],
      },
      cores: [
        '{when} {food} 먹으러 갈래?',
        '{when} {place}에 갈 건데 같이 갈래요?',
        '{thing}[을/를] 아무리 찾아도 없네, 혹시 봤어?',
        '어제 오랜만에 얘기 나눠서 정말 좋았어요.',
        '솔직히 그냥 집에서 쉬는 게 나을 것 같아.',
        '요즘 날씨 진짜 이상하지 않아요?',
        '{media} 드디어 봤는데 너무 좋았어.',
        '!{when} 엄마한테 전화하라고 좀 알려줘',
        '일곱 시쯤 {place}에서 만나요.',
        '오래전부터 너한테 하고 싶은 말이 있었어.',
        '지난 주말에 이사 도와줘서 다시 한번 고마워요.',
        '이번 겨울엔 따뜻한 데로 여행 한번 가자.',
        '아침에 고양이가 물컵을 엎질렀어요.',
        '미안, 한 10분 정도 늦을 것 같아!',
        '!생일 축하해! 오늘 하루 정말 행복하게 보내.',
        '집에서 {food} 만들어 봤는데 완전 망했어요.',
        '{media} 벌써 봤어? 스포는 하지 마.',
        '올해는 기타를 한번 배워볼까 생각 중이에요.',
        '차가 너무 막혀서 {when} {place}[은/는] 못 갈 것 같아.',
        '집에 오는 길에 우유 좀 사다 줄 수 있어?',
        '!걔 생일 선물 뭐 사야 할지 모르겠어 추천 좀',
        '우리 마지막으로 본 게 진짜 오래됐다.',
        '{place}에 {thing}[을/를] 두고 온 것 같은데 혹시 있는지 봐 줄래?',
        '그 식당 생각보다 훨씬 맛있었어요.',
        '너무 피곤해서 {when} 일찍 자야 할 것 같아요.',
        '집에 잘 도착하면 연락 줘.',
        '애들이 또 {place}에 가자고 조르네요.',
        '이제 진짜 운동 좀 시작해야겠어.',
        '샤워하느라 전화 못 받았어, 미안.',
        '{when} 조촐하게 모이는데 너도 와!',
        '!ㅋㅋㅋ 이번 주에 본 것 중에 제일 웃겼어',
        '요즘 {food} 가격 너무 오른 것 같지 않아?',
      ],
    },
  },
};

const PARTICLES: Readonly<Record<string, readonly [withFinal: string, withoutFinal: string]>> = {
  '을/를': ['을', '를'],
  '이/가': ['이', '가'],
  '은/는': ['은', '는'],
  '와/과': ['과', '와'],
  '으로/로': ['으로', '로'],
};

/** Digits read in Sino-Korean: 0 영, 1 일, 3 삼, 6 육, 7 칠, 8 팔 end in a consonant. */
const DIGIT_FINAL: Readonly<Record<string, number>> = { '0': 21, '1': 8, '3': 16, '6': 1, '7': 8, '8': 8 };

/** Final-consonant index of the last sounding character (0 = none, 8 = ㄹ), for particle choice. */
function finalConsonant(s: string): number {
  for (let i = s.length - 1; i >= 0; i--) {
    const ch = s[i]!;
    const code = ch.charCodeAt(0);
    if (code >= 0xac00 && code <= 0xd7a3) return (code - 0xac00) % 28;
    if (/[0-9]/.test(ch)) return DIGIT_FINAL[ch] ?? 0;
    if (/[A-Za-z]/.test(ch)) return /[lmnLMN]/.test(ch) ? 4 : 0;
    if (ch === '%') return 0;
  }
  return 0;
}

/** Replaces `[을/를]`-style markers with the particle the preceding word takes. */
export function resolveParticles(s: string): string {
  return s.replace(/\[(을\/를|이\/가|은\/는|와\/과|으로\/로)\]/g, (_m, p: string, offset: number) => {
    const fc = finalConsonant(s.slice(0, offset));
    const [withFinal, withoutFinal] = PARTICLES[p]!;
    if (p === '으로/로') return fc === 0 || fc === 8 ? withoutFinal : withFinal;
    return fc === 0 ? withoutFinal : withFinal;
  });
}

function fill(core: string, bank: SentenceBank, rnd: () => number): string {
  const picked = new Map<string, number>();
  return core.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const values = bank.slots[name];
    if (!values || values.length === 0) throw new Error(`context bank: no values for slot {${name}}`);
    const group = bank.linked?.find((g) => g.includes(name)) ?? [name];
    const sibling = group.find((g) => picked.has(g));
    const index = sibling === undefined ? Math.floor(rnd() * values.length) : picked.get(sibling)!;
    picked.set(name, index);
    return values[index % values.length]!;
  });
}

/** A prefix that leaves the sentence mid-flow (ends in `,`, `:` or a word) lower-cases an ordinary first word. */
function joinPrefix(prefix: string, sentence: string): string {
  if (prefix === '') return sentence;
  const flows = /[,:]\s*$|[a-z]\s*$/.test(prefix);
  const first = /^[A-Z][a-z']+\b/.exec(sentence)?.[0];
  const ordinary = first !== undefined && !first.startsWith("I'");
  const lowered = flows && ordinary ? sentence[0]!.toLowerCase() + sentence.slice(1) : sentence;
  return prefix + lowered;
}

function capitalise(s: string): string {
  return /^[a-z]/.test(s) ? s[0]!.toUpperCase() + s.slice(1) : s;
}

const PREFIX_RATE = 0.3;
const SUFFIX_RATE = 0.25;

function compose(core: string, bank: SentenceBank, lang: Lang, rnd: () => number): string {
  const plain = core.startsWith('!');
  const body = plain ? core.slice(1) : core;
  let s = fill(body, bank, rnd);
  // A draft written in lower case stays that way; a sentence that only starts lower because a slot
  // value does ("revenue rose …") is capitalised.
  if (lang === 'en' && body.startsWith('{') && !plain) s = capitalise(s);
  if (lang === 'en' && body.startsWith('{') && plain && /[.?!]$/.test(s)) s = capitalise(s);
  if (!plain) {
    if (bank.prefixes.length > 0 && rnd() < PREFIX_RATE)
      s = joinPrefix(bank.prefixes[Math.floor(rnd() * bank.prefixes.length)]!, s);
    const suffixes = bank.suffixes ?? [];
    if (suffixes.length > 0 && /[.?!]$/.test(s) && rnd() < SUFFIX_RATE)
      s += suffixes[Math.floor(rnd() * suffixes.length)]!;
  }
  return lang === 'ko' ? resolveParticles(s) : s;
}

export interface ComposeOptions {
  /** Sentences per category and language (default 110, so 220 per category). */
  readonly perLanguage?: number;
  readonly seed?: number;
}

/**
 * Composes the context pool: for every category and language, cycles through the shuffled cores,
 * filling slots and adding a prefix/suffix, until `perLanguage` distinct sentences exist. A core
 * with slots may appear up to 6 times, a fixed one up to twice, so no sentence shape dominates.
 * Pure and deterministic for a seed.
 */
export function composeContexts(options: ComposeOptions = {}): ContextSample[] {
  const per = options.perLanguage ?? 110;
  const rnd = mulberry32(options.seed ?? 20_250_301);
  const out: ContextSample[] = [];
  for (const [category, byLang] of Object.entries(SENTENCE_BANKS)) {
    for (const lang of ['en', 'ko'] as const) {
      const bank = byLang[lang];
      const cores = shuffle([...bank.cores], rnd);
      const uses = new Map<string, number>();
      const seen = new Set<string>();
      const made: string[] = [];
      let stalled = 0;
      for (let i = 0; made.length < per && stalled < cores.length * 20; i++) {
        const core = cores[i % cores.length]!;
        const cap = /\{\w+\}/.test(core) ? 6 : 2;
        if ((uses.get(core) ?? 0) >= cap) {
          stalled += 1;
          continue;
        }
        const s = compose(core, bank, lang, rnd);
        if (seen.has(s)) {
          stalled += 1;
          continue;
        }
        seen.add(s);
        uses.set(core, (uses.get(core) ?? 0) + 1);
        made.push(s);
      }
      if (made.length < per)
        throw new Error(
          `context bank ${category}/${lang}: only ${made.length} distinct sentences, wanted ${per}`,
        );
      made.forEach((text, j) => {
        out.push({
          id: `${category}-${lang}-${String(j + 1).padStart(3, '0')}`,
          category,
          language: lang,
          text,
        });
      });
    }
  }
  return out;
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
