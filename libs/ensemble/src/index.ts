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
