import type { RowPrediction } from '@chorus/protocol';
import { predictWithEnsemble, type LoadedEnsemble } from '../export/index';
import { predictionRowsOf } from './predict-answer';

/**
 * The answer rows for `count` **raw** rows of `x` (the dataset files' values): the manifest's
 * preprocessing, every member, every strategy, shaped by predictionRowsOf. The one path from an
 * export to an answer: `chorus serve` and the coordinator's predict route both call it.
 */
export async function predictEnsembleRows(
  ensemble: LoadedEnsemble,
  x: Float32Array,
  count: number,
): Promise<RowPrediction[]> {
  const { manifest } = ensemble;
  const prediction = await predictWithEnsemble(ensemble, x, count);
  return predictionRowsOf(prediction, count, classNamesOf(manifest.dataset), manifest.defaultStrategy);
}

/** The manifest's class names, or the class indices as names when it has none. */
export function classNamesOf(dataset: { classNames: string[]; numClasses: number }): string[] {
  return dataset.classNames.length === dataset.numClasses
    ? dataset.classNames
    : Array.from({ length: dataset.numClasses }, (_, c) => String(c));
}
