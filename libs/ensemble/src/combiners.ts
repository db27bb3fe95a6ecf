import {
  CombinerParamsSchema,
  LEARNED_COMBINERS,
  type CombinerParams,
  type LearnedCombiner,
  type OptimalWeightsParams,
  type SelectionParams,
  type StackingParams,
} from '@chorus/protocol';
import { EnsembleInputError } from './errors';
import { applyOptimalWeights, fitOptimalWeights } from './optimal-weights';
import { applySelection, fitSelection, type SelectionOptions } from './selection';
import { applyStacking, fitStacking, type StackingOptions } from './stacking';
import { assertNumClasses, assertTruth, validateMembers } from './validate';

/** Each learned combiner's fitted parameters, by name. */
export interface CombinerParamsOf {
  stacking: StackingParams;
  'optimal-weights': OptimalWeightsParams;
  selection: SelectionParams;
}

export interface FitCombinerOptions {
  /** Seeds every random choice of the fit (stacking's cross-validation folds). */
  seed: number;
  stacking?: Omit<StackingOptions, 'seed'>;
  selection?: SelectionOptions;
}

export function isLearnedCombiner(value: unknown): value is LearnedCombiner {
  return typeof value === 'string' && (LEARNED_COMBINERS as readonly string[]).includes(value);
}

/**
 * Fits a learned combiner on the VALIDATION split's member probabilities and labels (fitting on
 * the test split would leak its labels into the score). The parameters are plain JSON.
 */
export function fitCombiner<K extends LearnedCombiner>(
  combiner: K,
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  options: FitCombinerOptions,
): CombinerParamsOf[K] {
  assertNumClasses(numClasses);
  assertTruth(truth, numClasses);
  if (truth.length === 0) throw new EnsembleInputError(`${combiner}: cannot fit on zero samples`);
  validateMembers(members, numClasses, 'validation', truth.length);
  return fitValidated(combiner, members, truth, numClasses, options);
}

/** fitCombiner() without the checks on members and truth. */
export function fitValidated<K extends LearnedCombiner>(
  combiner: K,
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  options: FitCombinerOptions,
): CombinerParamsOf[K] {
  if (!isLearnedCombiner(combiner)) {
    throw new EnsembleInputError(
      `unknown learned combiner '${String(combiner)}'; expected one of ${LEARNED_COMBINERS.join(', ')}`,
    );
  }
  if (!Number.isSafeInteger(options?.seed)) {
    throw new EnsembleInputError(`${combiner}: seed must be an integer, got ${String(options?.seed)}`);
  }
  assertOptions(combiner, options);
  const fitted: CombinerParams =
    combiner === 'stacking'
      ? fitStacking(members, truth, numClasses, { ...options.stacking, seed: options.seed })
      : combiner === 'optimal-weights'
        ? fitOptimalWeights(members, truth, numClasses)
        : fitSelection(members, truth, numClasses, options.selection);
  return fitted as CombinerParamsOf[K];
}

/** The combined N×C probabilities of `members` (any split, same member order as the fit). */
export function applyCombiner(params: CombinerParams, members: readonly Float32Array[]): Float32Array {
  const parsed = CombinerParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnsembleInputError(
      `combiner parameters: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  validateMembers(members, params.numClasses);
  return applyValidated(params, members);
}

/** applyCombiner() without the checks on the members (the parameters still must match them). */
export function applyValidated(params: CombinerParams, members: readonly Float32Array[]): Float32Array {
  if (params.weights.length !== members.length) {
    throw new EnsembleInputError(
      `${params.combiner} was fitted on ${params.weights.length} members, got ${members.length}`,
    );
  }
  switch (params.combiner) {
    case 'stacking':
      if (params.biases.length !== params.numClasses) {
        throw new EnsembleInputError(
          `stacking has ${params.biases.length} biases for ${params.numClasses} classes`,
        );
      }
      return applyStacking(params, members);
    case 'optimal-weights':
      assertMixture(params);
      return applyOptimalWeights(params, members);
    case 'selection':
      assertMixture(params);
      return applySelection(params, members);
  }
}

/** Mixture weights must sum to 1, or the combined rows would not. */
function assertMixture(params: OptimalWeightsParams | SelectionParams): void {
  const total = params.weights.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-6) {
    throw new EnsembleInputError(`${params.combiner} weights sum to ${total}, expected 1`);
  }
}

function assertOptions(combiner: LearnedCombiner, options: FitCombinerOptions): void {
  const { lambdas, folds } = options.stacking ?? {};
  if (lambdas !== undefined) {
    if (
      !Array.isArray(lambdas) ||
      lambdas.length === 0 ||
      lambdas.some((l) => !(l > 0) || !Number.isFinite(l))
    ) {
      throw new EnsembleInputError(`${combiner}: lambdas must be finite numbers > 0, at least one`);
    }
    if (new Set(lambdas).size !== lambdas.length) {
      throw new EnsembleInputError(`${combiner}: lambdas must not repeat a value`);
    }
  }
  if (folds !== undefined && !(Number.isInteger(folds) && folds >= 2)) {
    throw new EnsembleInputError(`${combiner}: folds must be an integer ≥ 2, got ${folds}`);
  }
  const rounds = options.selection?.rounds;
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
    throw new EnsembleInputError(`${combiner}: rounds must be an integer ≥ 1, got ${rounds}`);
  }
}
