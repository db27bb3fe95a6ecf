import type { FileDatasetKind } from '@chorus/protocol';
import { loadCsvDataset } from './csv-dataset';
import { loadImagesDataset } from './images-dataset';
import { loadNpyDataset } from './npy-dataset';
import type { Dataset, LoadOptions } from './types';

/**
 * The loader of each dataset kind read from the user's own files (FILE_DATASET_KINDS in
 * libs/protocol). A new kind is a name there and a loader here: it gets the
 * LoadOptions of the run (`path` = datasetPath, the run config's datasetOptions, the run seed,
 * the read limits, a progress callback) and returns a Dataset with `name` = the kind, its
 * `inputShape`, `classNames` and, when features were rescaled, `preprocess`. Everything after
 * (bundles, uploads, splits, the model-input check) works from the Dataset alone.
 */
export const FILE_DATASET_LOADERS: Readonly<Record<FileDatasetKind, (options: LoadOptions) => Promise<Dataset>>> = {
  csv: loadCsvDataset,
  npy: loadNpyDataset,
  images: loadImagesDataset,
};
