import type * as tfl from '@tensorflow/tfjs-layers';
import { applyCombiner, argmaxLabels, combine, isLearnedCombiner } from '@chorus/ensemble';
import { ChorusError, type StrategyName } from '@chorus/protocol';
import { predictProbabilities } from '../predict';
import { applyPreprocess } from './preprocess';
import type { LoadedEnsemble } from './read';

export interface EnsemblePrediction {
  /** The chosen members' softmax probabilities, count × C each, in the order of `members`. */
  memberProbs: Float32Array[];
  /** The member indices these are (all of them unless `options.members` chose some). */
  members: number[];
  /** Each strategy's combined probabilities (count × C) and class per row. */
  strategies: Partial<Record<StrategyName, { classes: Int32Array; probs: Float32Array }>>;
  /** Per row: the fraction of member pairs whose predicted classes differ (0 with one member). */
  disagreement: Float32Array;
}

export interface PredictOptions {
  /** A subset of member indices; the learned combiners (fitted on every member) are then left out. */
  members?: readonly number[];
}

/**
 * The ensemble's prediction for `count` rows of raw inputs `x` (count × the dataset's features, as
 * the dataset's files hold them): applyPreprocess, every chosen member's probabilities, each of the
 * manifest's strategies through libs/ensemble (weighted votes with the manifest's validation-accuracy
 * weights, learned combiners with their stored parameters), and the members' disagreement per row.
 */
export async function predictWithEnsemble(
  ensemble: LoadedEnsemble,
  x: ArrayLike<number>,
  count: number,
  options: PredictOptions = {},
): Promise<EnsemblePrediction> {
  const { manifest } = ensemble;
  const { inputShape, numClasses, preprocess } = manifest.dataset;
  const featureSize = inputShape.reduce((a, b) => a * b, 1);
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new ChorusError('invalid-input', `count must be a whole number of rows ≥ 1, got ${count}`);
  }
  if (x.length !== count * featureSize) {
    throw new ChorusError(
      'invalid-input',
      `${count} rows of ${featureSize} features (shape [${inputShape}]) are ${count * featureSize} values, got ${x.length}`,
    );
  }
  const all = manifest.members.map((m) => m.index);
  const members = options.members === undefined ? all : [...options.members];
  checkMembers(members, all.length);
  const input = applyPreprocess(preprocess, x, featureSize);
  // One member at a time: each read of a GPU tensor is awaited (predictProbabilities).
  const memberProbs: Float32Array[] = [];
  for (const m of members) {
    memberProbs.push(await predictProbabilities(ensemble.models[m] as tfl.LayersModel, input, inputShape));
  }
  const weights = members.map((m) => manifest.members[m]?.weight as number);
  const subset = members.length !== all.length || members.some((m, i) => m !== i);

  const strategies: EnsemblePrediction['strategies'] = {};
  for (const strategy of manifest.strategies) {
    if (isLearnedCombiner(strategy)) {
      const params = manifest.combiners[strategy];
      if (subset || params === undefined) continue;
      const probs = applyCombiner(params, memberProbs);
      strategies[strategy] = { probs, classes: argmaxLabels(probs, numClasses) };
    } else {
      const useWeights = weights.some((w) => w > 0) ? weights : weights.map(() => 1);
      const vote = combine(strategy, memberProbs, numClasses, useWeights);
      strategies[strategy] = { probs: vote.scores, classes: vote.labels };
    }
  }
  return { memberProbs, members, strategies, disagreement: rowDisagreement(memberProbs, count, numClasses) };
}

function checkMembers(members: number[], total: number): void {
  if (members.length === 0) throw new ChorusError('invalid-input', 'choose at least one member');
  for (const m of members) {
    if (!(Number.isInteger(m) && m >= 0 && m < total)) {
      throw new ChorusError(
        'invalid-input',
        `this ensemble has members 0–${total - 1}; there is no member ${m}`,
      );
    }
  }
  if (new Set(members).size !== members.length) {
    throw new ChorusError('invalid-input', `member list ${members.join(',')} names a member twice`);
  }
}

/**
 * Per row, the pairwise disagreement of the members' argmax classes: (M² − Σ_c n_c²) / (M(M−1)),
 * n_c the members voting c. It needs no labels, unlike the run's disagreement measure (Kuncheva &
 * Whitaker: pairs where exactly one member is right).
 */
function rowDisagreement(memberProbs: Float32Array[], count: number, numClasses: number): Float32Array {
  const out = new Float32Array(count);
  const m = memberProbs.length;
  if (m < 2) return out;
  const labels = memberProbs.map((p) => argmaxLabels(p, numClasses));
  const votes = new Int32Array(numClasses);
  for (let r = 0; r < count; r++) {
    votes.fill(0);
    for (const l of labels) votes[l[r] as number] = (votes[l[r] as number] as number) + 1;
    let squares = 0;
    for (let c = 0; c < numClasses; c++) squares += (votes[c] as number) ** 2;
    out[r] = (m * m - squares) / (m * (m - 1));
  }
  return out;
}
