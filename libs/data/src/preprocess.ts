import {
  DATASET_SHAPES,
  isFileDatasetKind,
  type DatasetKind,
  type DatasetName,
  type DatasetPreprocess,
  type ManifestDataset,
  type Preprocess,
} from '@chorus/protocol';
import { datasetClassNames } from './registry';

/**
 * What loading a built-in dataset does to its raw values (registry.ts, csv.ts, idx-dataset.ts):
 * 8-bit pixels (IDX, Sign-MNIST CSV) divided by 255, sklearn digits' 0–16 values by 16; the
 * synthetic set is generated already in [0, 1]. No normalization. An exported ensemble records it,
 * so inputs given as the dataset's files hold them reach the members as the training rows did.
 */
export function datasetPreprocess(name: DatasetName): Preprocess {
  const [height, width, channels] = DATASET_SHAPES[name].inputShape as [number, number, number];
  const image = { height, width, channels };
  switch (name) {
    case 'mnist':
    case 'fashion-mnist':
    case 'sign-mnist':
      return { rawRange: [0, 255], divisor: 255, normalize: null, image };
    case 'digits':
      return { rawRange: [0, 16], divisor: 16, normalize: null, image };
    case 'synthetic':
      return { rawRange: [0, 1], divisor: 1, normalize: null, image };
  }
}

/** An exported ensemble's `dataset` for a built-in dataset (and its sha256, when known). */
export function manifestDatasetOf(name: DatasetName, sha256?: string): ManifestDataset {
  return {
    name,
    ...(sha256 === undefined ? {} : { sha256 }),
    inputShape: [...DATASET_SHAPES[name].inputShape],
    numClasses: DATASET_SHAPES[name].numClasses,
    classNames: datasetClassNames(name),
    preprocess: datasetPreprocess(name),
  };
}

/** What a loaded dataset holds for its export: its kind, shape, classes and preprocessing. */
export interface LoadedDatasetFacts {
  name: DatasetKind;
  sha256?: string;
  inputShape: readonly number[];
  numClasses: number;
  classNames?: string[];
  preprocess?: DatasetPreprocess;
}

/**
 * An exported ensemble's `dataset` for any dataset: a built-in one as manifestDatasetOf says; a
 * csv/npy/images one from what loading it recorded (its `preprocess`: the scale raw values were
 * divided by, then per-feature standard (x − mean) / std or minmax (x − min) / (max − min)
 * statistics of the training split, which the export's per-channel normalization takes with one
 * entry per feature). Their raw values have no fixed range except 8-bit images' [0, 255].
 */
export function manifestDatasetFor(dataset: LoadedDatasetFacts): ManifestDataset {
  if (!isFileDatasetKind(dataset.name)) return manifestDatasetOf(dataset.name, dataset.sha256);
  const pre = dataset.preprocess ?? { normalize: 'none' as const };
  const image =
    pre.normalize === 'none' && pre.image !== undefined
      ? { height: pre.image.height, width: pre.image.width, channels: pre.image.channels }
      : null;
  const normalize =
    pre.normalize === 'standard'
      ? { mean: pre.mean, std: pre.std }
      : pre.normalize === 'minmax'
        ? {
            mean: pre.min,
            std: pre.max.map((max, i) =>
              max - (pre.min[i] as number) > 0 ? max - (pre.min[i] as number) : 1,
            ),
          }
        : null;
  return {
    name: dataset.name,
    ...(dataset.sha256 === undefined ? {} : { sha256: dataset.sha256 }),
    inputShape: [...dataset.inputShape],
    numClasses: dataset.numClasses,
    classNames: dataset.classNames ?? Array.from({ length: dataset.numClasses }, (_, c) => String(c)),
    preprocess: {
      rawRange: image !== null ? [0, 255] : [-Number.MAX_VALUE, Number.MAX_VALUE],
      divisor: pre.scale ?? 1,
      normalize,
      image,
    },
  };
}
