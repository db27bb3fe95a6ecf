export { EnsembleInputError } from './errors';
export { argmaxLabels } from './labels';
export { validateProbabilities } from './validate';
export {
  accuracyWeights,
  combine,
  isVotingStrategy,
  VOTING_STRATEGIES,
  type CombinedVote,
  type VotingStrategy,
} from './voting';
export {
  LEARNED_COMBINERS,
  STRATEGY_NAMES,
  type CombinerParams,
  type LearnedCombiner,
  type OptimalWeightsParams,
  type SelectionParams,
  type StackingParams,
  type StrategyName,
} from '@chorus/protocol';
export {
  applyCombiner,
  fitCombiner,
  isLearnedCombiner,
  type CombinerParamsOf,
  type FitCombinerOptions,
} from './combiners';
export { STACKING_FOLDS, STACKING_LAMBDAS, type StackingOptions } from './stacking';
export { SELECTION_ROUNDS, type SelectionOptions } from './selection';
export { DEFAULT_ECE_BINS, scoreProbabilities, type ProbabilityScores } from './scoring';
export { diversity, type DiversityReport, type PairwiseMeasures } from './diversity';
export { ambiguity, splitDiversity, type EnsembleDiversity } from './ambiguity';
export {
  evaluateEnsemble,
  type EnsembleEvaluation,
  type EnsembleSplit,
  type EvaluateEnsembleInput,
  type MemberEvaluation,
  type StrategyScores,
} from './evaluate';
export { runResultOf } from './run-result';
export { perClassResult } from './per-class';
