import { DATASET_SHAPES, type DatasetName, type ManifestDataset, type Preprocess } from '@chorus/protocol';
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
