import { argmaxLabels, scoreProbabilities } from '@chorus/ensemble';
import type { EnsemblePrediction } from '@chorus/models';
import type { StrategyName, StrategyResult } from '@chorus/protocol';

/** What `chorus predict --evaluate --json` prints: the scores of every strategy on the given rows. */
export interface PredictEvaluation {
  rows: number;
  members: { index: number; accuracy: number }[];
  ensemble: Partial<Record<StrategyName, StrategyResult>>;
}

/**
 * Collects batches of predictions with their labels and scores them at the end with libs/ensemble's
 * scoring (the run's test figures are computed the same way). It keeps each strategy's N×C
 * probabilities and the members' correct counts, not the members' probabilities.
 */
export function createEvaluation(numClasses: number, total: number) {
  const strategies = new Map<StrategyName, { probs: Float32Array; classes: Int32Array }>();
  const truth = new Int32Array(total);
  let correct: number[] = [];
  let members: number[] = [];
  let rows = 0;
  return {
    add(prediction: EnsemblePrediction, labels: Int32Array): void {
      const n = labels.length;
      if (rows === 0) {
        members = prediction.members;
        correct = members.map(() => 0);
      }
      truth.set(labels, rows);
      for (const [name, vote] of Object.entries(prediction.strategies) as [
        StrategyName,
        { probs: Float32Array; classes: Int32Array },
      ][]) {
        let into = strategies.get(name);
        if (!into) {
          into = { probs: new Float32Array(total * numClasses), classes: new Int32Array(total) };
          strategies.set(name, into);
        }
        into.probs.set(vote.probs, rows * numClasses);
        into.classes.set(vote.classes, rows);
      }
      prediction.memberProbs.forEach((p, m) => {
        const predicted = argmaxLabels(p, numClasses);
        for (let r = 0; r < n; r++) if (predicted[r] === labels[r]) correct[m] = (correct[m] as number) + 1;
      });
      rows += n;
    },
    finish(): PredictEvaluation {
      const accuracies = correct.map((c) => c / rows);
      const best = Math.max(...accuracies);
      const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
      const ensemble: PredictEvaluation['ensemble'] = {};
      for (const [name, { probs, classes }] of strategies) {
        const s = scoreProbabilities(probs, truth, numClasses, undefined, classes);
        ensemble[name] = { ...s, gainOverBest: s.accuracy - best, gainOverMean: s.accuracy - mean };
      }
      return {
        rows,
        members: members.map((index, m) => ({ index, accuracy: accuracies[m] as number })),
        ensemble,
      };
    },
  };
}
