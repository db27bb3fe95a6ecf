import { ChorusError, type RowPrediction, type StrategyName } from '@chorus/protocol';
import type { EnsemblePrediction } from '../export/predict';

/**
 * The answer rows of libs/protocol's PredictAnswerSchema (predict.ts) for an ensemble's outputs:
 * per row the `strategy`'s decision, every member's probabilities and choice, every strategy's
 * decision and the disagreement. `chorus serve` and the coordinator's predict route both answer
 * with it, so the two agree for the same ensemble and input.
 */
export function predictionRowsOf(
  outputs: EnsemblePrediction,
  count: number,
  classNames: readonly string[],
  strategy: StrategyName,
): RowPrediction[] {
  const classes = classNames.length;
  const nameOf = (c: number) => classNames[c] ?? String(c);
  for (const [m, probs] of outputs.memberProbs.entries()) {
    if (probs.length !== count * classes) {
      throw new ChorusError(
        'internal',
        `member ${outputs.members[m] ?? m} gave ${probs.length} values for ${count} rows × ${classes} classes`,
      );
    }
  }
  const strategies = (
    Object.entries(outputs.strategies) as [StrategyName, { classes: Int32Array; probs: Float32Array }][]
  ).filter(([, s]) => s !== undefined);
  const main = outputs.strategies[strategy];
  if (!main) throw new ChorusError('internal', `the ensemble has no ${strategy} strategy`);

  // A strategy's probs are count × C: its score of the class it chose.
  const scoreOf = (s: { classes: Int32Array; probs: Float32Array }, row: number): number =>
    clamp01(s.probs[row * classes + (s.classes[row] as number)] ?? 0);
  return Array.from({ length: count }, (_, row) => {
    const c = main.classes[row] as number;
    return {
      class: c,
      className: nameOf(c),
      probability: scoreOf(main, row),
      members: outputs.memberProbs.map((probs, i) => {
        const p = Array.from(probs.subarray(row * classes, (row + 1) * classes), clamp01);
        return { member: outputs.members[i] ?? i, class: argmax(p), probabilities: p };
      }),
      strategies: strategies.map(([name, s]) => ({
        strategy: name,
        class: s.classes[row] as number,
        className: nameOf(s.classes[row] as number),
        probability: scoreOf(s, row),
      })),
      disagreement: clamp01(outputs.disagreement[row] ?? 0),
    };
  });
}

/** Float32 sums may stray a hair past 1; the schema holds probabilities to [0, 1]. */
const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
