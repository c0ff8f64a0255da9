import type { RewriteOption } from '../../schemas/index.ts';
import type { ClusterEvidence, DocEvidence, UserEvidence, VecEvidence } from './components.ts';

export type ComponentName = 'vec' | 'doc' | 'user' | 'cluster';

/** What lifted an option above the uniform baseline, and by how much (in P_final units). */
export interface Attribution {
  /** The component with the largest lift, or 'none' when nothing lifted the option. */
  readonly carriedBy: ComponentName | 'none';
  readonly lift: Readonly<Record<ComponentName, number>>;
}

/** Weights of the four components in P_final: 1 − α − β, α, β·w, β·(1 − w). */
export interface ComponentWeights {
  readonly vec: number;
  readonly doc: number;
  readonly user: number;
  readonly cluster: number;
}

/** Lifts smaller than this are rounding, not evidence. */
const MIN_LIFT = 1e-9;
/** When lifts tie, the more personal evidence names the reason. */
const PRECEDENCE: readonly ComponentName[] = ['user', 'cluster', 'vec', 'doc'];

/**
 * Splits option i's final score into each component's lift over the uniform 1/|O|: what that
 * component added beyond "no information". The largest lift carried the option.
 *
 * @example
 * attribute(3, { vec: 0.4, doc: 0.2, user: 0.3, cluster: 0.1 }, pVec, pDoc, pUser, pCluster).carriedBy;
 */
export function attribute(
  i: number,
  weights: ComponentWeights,
  pVec: Float64Array,
  pDoc: Float64Array,
  pUser: Float64Array,
  pCluster: Float64Array,
): Attribution {
  const u = 1 / pVec.length;
  const lift = {
    vec: weights.vec * (pVec[i]! - u),
    doc: weights.doc * (pDoc[i]! - u),
    user: weights.user * (pUser[i]! - u),
    cluster: weights.cluster * (pCluster[i]! - u),
  };
  let carriedBy: ComponentName | 'none' = 'none';
  let best = MIN_LIFT;
  for (const c of PRECEDENCE) {
    if (lift[c] > best) {
      best = lift[c];
      carriedBy = c;
    }
  }
  return { carriedBy, lift };
}

export interface ReasonEvidence {
  readonly vec: VecEvidence;
  readonly doc: DocEvidence;
  readonly user: UserEvidence;
  readonly cluster: ClusterEvidence;
}

/**
 * The label people read; keys stay slugs.
 *
 * @example
 * optionLabel({ category: 'customer_service', intensity: 'strong' }); // "customer service · strong"
 */
export function optionLabel(o: RewriteOption): string {
  return `${o.category.replaceAll('_', ' ')} · ${o.intensity}`;
}

/**
 * The one-line reason for option i, naming the evidence of the component that carried it.
 *
 * @example
 * reasonText(i, option, 'user', evidence); // "you chose email · strong in 7 of your 10 sessions"
 */
export function reasonText(
  i: number,
  option: RewriteOption,
  carriedBy: ComponentName | 'none',
  e: ReasonEvidence,
): string {
  const label = optionLabel(option);
  switch (carriedBy) {
    case 'user': {
      const u = e.user;
      const uniform = 1 / u.p.length;
      const simLift = u.similarityPart ? u.similarityShare * (u.similarityPart[i]! - uniform) : 0;
      const countLift = (1 - u.similarityShare) * (u.countPart[i]! - uniform);
      const selected = u.selected[i]!;
      // A count is the more concrete reason; name the similarity only when it did the work and
      // the count alone would not convince ("1 of your 9 sessions").
      const countSays = selected > 0 && (countLift >= simLift || 2 * selected >= u.sessions);
      if (!countSays) return `you used ${label} for sentences like this one`;
      return `you chose ${label} in ${selected} of your ${u.sessions} sessions`;
    }
    case 'cluster': {
      const c = e.cluster;
      const who = `users like you (cluster ${c.clusterId})`;
      if (i === c.top) return `${who} mostly pick ${label}`;
      return `${who} often pick ${label} (${Math.round(c.shares[i]! * 100)} %)`;
    }
    case 'vec':
      return `similar sentences were rewritten as ${label} (${e.vec.perOption[i]} of ${e.vec.used})`;
    case 'doc': {
      const d = e.doc;
      const uniform = 1 / d.p.length;
      const histLift = d.historyShare * (d.historyPart[i]! - uniform);
      const fieldLift = (1 - d.historyShare) * (d.fieldPart[i]! - uniform);
      if (d.field === null || histLift > fieldLift) {
        return `you chose ${label} earlier in this document (${d.historyCounts[i]}×)`;
      }
      return `this document is ${article(d.field)} ${d.field.replaceAll('_', ' ')}`;
    }
    default:
      return 'no strong signal yet, so a neutral default';
  }
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
