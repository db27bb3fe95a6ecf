import { STRATEGY_NAMES, type LearnedCombiner, type StrategyName } from '@chorus/protocol';
import { splitDiversity, type EnsembleDiversity } from './ambiguity';
import { applyValidated, fitValidated, isLearnedCombiner, type CombinerParamsOf } from './combiners';
import { EnsembleInputError } from './errors';
import { accuracyOf, argmaxLabels } from './labels';
import { assertBins, DEFAULT_ECE_BINS, scoreValidated, type ProbabilityScores } from './scoring';
import { assertNumClasses, assertTruth, validateMembers } from './validate';
import { accuracyWeights, combineValidated, type CombinedVote } from './voting';

/** One split's member probabilities (same member order in every split) and true labels. */
export interface EnsembleSplit {
  members: readonly Float32Array[];
  truth: Int32Array;
}

export interface EvaluateEnsembleInput<S extends StrategyName = StrategyName> {
  numClasses: number;
  validation: EnsembleSplit;
  test: EnsembleSplit;
  /** Default: every strategy in STRATEGY_NAMES (the fixed votes and the learned combiners). */
  strategies?: readonly S[];
  /** ECE bins; default 15. */
  bins?: number;
  /**
   * Seeds the learned combiners' random choices (stacking's cross-validation folds). Required: every
   * consumer passes the run's seed, so the coordinator, `chorus train` and a re-check of stored
   * predictions fit the same parameters.
   */
  seed: number;
}

export interface StrategyScores extends ProbabilityScores {
  /** Ensemble accuracy − the best member's accuracy on the same split. */
  gainOverBest: number;
  /** Ensemble accuracy − the members' mean accuracy on the same split. */
  gainOverMean: number;
}

export interface MemberEvaluation {
  index: number;
  valAccuracy: number;
  testAccuracy: number;
  test: ProbabilityScores;
}

export interface EnsembleEvaluation<S extends StrategyName = StrategyName> {
  members: MemberEvaluation[];
  /** accuracyWeights(validation accuracies): used by the weighted strategies on both splits. */
  weights: number[];
  /** The learned combiners' parameters, fitted on the validation split and applied to both splits. */
  combiners: Pick<CombinerParamsOf, S & LearnedCombiner>;
  /** Test split. */
  strategies: Record<S, StrategyScores>;
  /** Validation split (the weighted strategies' weights and the learned combiners were fitted here, so it flatters them). */
  validation: Record<S, StrategyScores>;
  /** Diversity on the test split: of the members' argmax labels, plus the ambiguity of their probabilities. */
  diversity: EnsembleDiversity;
  /** The class each member and each strategy gives every test row (what `perClassResult` counts). */
  testLabels: { members: Int32Array[]; strategies: Record<S, Int32Array> };
}

/**
 * Everything the coordinator stores for one evaluation round: member scores, the weights (from
 * validation accuracies only), the learned combiners (fitted on the validation split only), every
 * requested strategy on both splits, and test-split diversity.
 */
export function evaluateEnsemble<S extends StrategyName = StrategyName>(
  input: EvaluateEnsembleInput<S>,
): EnsembleEvaluation<S> {
  const { numClasses, validation, test } = input;
  const bins = input.bins ?? DEFAULT_ECE_BINS;
  assertNumClasses(numClasses);
  assertBins(bins);
  const strategies = uniqueStrategies(
    input.strategies ?? (STRATEGY_NAMES as readonly StrategyName[] as readonly S[]),
  );
  const seed = input.seed;
  const valRows = validateSplit(validation, numClasses, 'validation');
  const testRows = validateSplit(test, numClasses, 'test');
  if (validation.members.length !== test.members.length) {
    throw new EnsembleInputError(
      `validation has ${validation.members.length} members but test has ${test.members.length}`,
    );
  }

  const valLabels = validation.members.map((p) => argmaxLabels(p, numClasses));
  const testLabels = test.members.map((p) => argmaxLabels(p, numClasses));
  const valAccuracies = valLabels.map((labels) => accuracyOf(labels, validation.truth));
  const testAccuracies = testLabels.map((labels) => accuracyOf(labels, test.truth));
  const weights = accuracyWeights(valAccuracies);
  const weightArray = Float64Array.from(weights);

  const members = test.members.map((probs, index) => ({
    index,
    valAccuracy: valAccuracies[index] as number,
    testAccuracy: testAccuracies[index] as number,
    test: scoreValidated(probs, test.truth, numClasses, bins, testLabels[index]),
  }));

  const combiners = {} as Record<LearnedCombiner, CombinerParamsOf[LearnedCombiner]>;
  for (const strategy of strategies) {
    if (isLearnedCombiner(strategy)) {
      combiners[strategy] = fitValidated(strategy, validation.members, validation.truth, numClasses, {
        seed,
      });
    }
  }

  const scoreSplit = (
    split: EnsembleSplit,
    rows: number,
    memberLabels: Int32Array[],
    memberAccuracies: number[],
  ): { scores: Record<S, StrategyScores>; labels: Record<S, Int32Array> } => {
    const best = Math.max(...memberAccuracies);
    const mean = memberAccuracies.reduce((a, b) => a + b, 0) / memberAccuracies.length;
    const record = {} as Record<S, StrategyScores>;
    const labelsOf = {} as Record<S, Int32Array>;
    for (const strategy of strategies) {
      const { scores, labels }: CombinedVote = isLearnedCombiner(strategy)
        ? learnedVote(applyValidated(combiners[strategy], split.members), numClasses)
        : combineValidated(strategy, split.members, rows, numClasses, weightArray, memberLabels);
      const s = scoreValidated(scores, split.truth, numClasses, bins, labels);
      record[strategy] = { ...s, gainOverBest: s.accuracy - best, gainOverMean: s.accuracy - mean };
      labelsOf[strategy] = labels;
    }
    return { scores: record, labels: labelsOf };
  };

  const testScores = scoreSplit(test, testRows, testLabels, testAccuracies);
  return {
    members,
    weights,
    combiners: combiners as Pick<CombinerParamsOf, S & LearnedCombiner>,
    strategies: testScores.scores,
    validation: scoreSplit(validation, valRows, valLabels, valAccuracies).scores,
    diversity: splitDiversity(test.members, test.truth, numClasses, testLabels),
    testLabels: { members: testLabels, strategies: testScores.labels },
  };
}

function validateSplit(split: EnsembleSplit, numClasses: number, name: string): number {
  if (split === null || typeof split !== 'object') throw new EnsembleInputError(`${name}: missing split`);
  assertTruth(split.truth, numClasses, `${name} truth`);
  if (split.truth.length === 0) throw new EnsembleInputError(`${name}: no samples`);
  return validateMembers(split.members, numClasses, name, split.truth.length);
}

function learnedVote(scores: Float32Array, numClasses: number): CombinedVote {
  return { scores, labels: argmaxLabels(scores, numClasses) };
}

function uniqueStrategies<S extends StrategyName>(strategies: readonly S[]): S[] {
  if (!Array.isArray(strategies) || strategies.length === 0) {
    throw new EnsembleInputError('strategies: give at least one voting strategy (or leave it out for all)');
  }
  for (const s of strategies) {
    if (!(STRATEGY_NAMES as readonly string[]).includes(s)) {
      throw new EnsembleInputError(
        `unknown voting strategy '${String(s)}'; expected one of ${STRATEGY_NAMES.join(', ')}`,
      );
    }
  }
  return [...new Set(strategies)];
}
