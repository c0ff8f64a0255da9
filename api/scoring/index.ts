export {
  type DocEvidenceInput,
  indexOptions,
  type ScoringNeighbour,
  userShare,
} from './components.ts';
export {
  DEFAULT_SCORING_CONFIG,
  SCORER_V1_CONFIG,
  SCORER_VERSION,
  SCORING_CONFIGS,
  type ScoringConfig,
  ScoringError,
  validateScoringConfig,
} from './config.ts';
export { explorationDraw, explore } from './exploration.ts';
export {
  type ClusterWeight,
  pickCluster,
  type ScoringCluster,
  type SoftAssignment,
  softAssign,
} from './pick-cluster.ts';
export { type ComponentName, optionLabel } from './reason.ts';
export { type CapturedInputs, type RescoreReport, rescore } from './rescore.ts';
export {
  type OptionExplain,
  type ScoreExplain,
  type ScoreResult,
  type ScoringInputs,
  scoreOptions,
} from './score-options.ts';
