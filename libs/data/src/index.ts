export { featureSize } from './types';
export type { Dataset, LoadOptions, LoadProgress, Split } from './types';
export { DatasetError, isDatasetError } from './errors';
export type { DatasetErrorCode } from './errors';
export { parseIdx, readIdx } from './idx';
export type { IdxArray } from './idx';
export {
  parseDigitsCsv,
  parseSignMnistCsv,
  readDigitsCsv,
  readSignMnistCsv,
  SIGN_MNIST_CLASS_NAMES,
} from './csv';
export { createRng, permutation } from './rng';
export type { Rng } from './rng';
export { limitSplit, prepareRunData, splitValidation, subsetSplit } from './split';
export type { SplitSettings } from './split';
export { planShards } from './sharding';
export type { MemberPlan, ShardOptions, ShardPlan } from './sharding';
export {
  datasetKeyOf,
  datasetOptionsOf,
  deriveRun,
  deriveSplits,
  loadRunDataset,
  splitSettingsOf,
} from './derive-run';
export type { DerivedRun, LabelSplit, RunSplits } from './derive-run';
export { builtInDatasetRoots, datasetClassNames, listDatasets, loadDataset, HOW_TO_GET } from './registry';
export { datasetPreprocess, manifestDatasetFor, manifestDatasetOf } from './preprocess';
export type { LoadedDatasetFacts } from './preprocess';
export { checkReadablePath, readMaybeGzip } from './io';
export type { ReadLimits } from './io';
export {
  BUNDLE_PREFIX_BYTES,
  bundleSha256,
  decodeDatasetBundle,
  encodeDatasetBundle,
  inspectBundleStart,
} from './bundle';
export type { DatasetListing } from './registry';
export { softmaxRows } from './synthetic';
export { parseNumericCsv, readNumericCsv } from './numeric-csv';
export type { NumericTable } from './numeric-csv';
export { npyValues, parseNpy, parseNpyHeader, readNpy } from './npy';
export type { NpyArray, NpyHeader } from './npy';
export { FILE_DATASET_LOADERS } from './file-kinds';
export { loadCsvDataset, DEFAULT_TEST_FRACTION } from './csv-dataset';
export { loadImagesDataset } from './images-dataset';
export { IMAGE_EXTENSIONS } from './image-folder';
export { readCsvTable, MAX_CLASSES } from './csv-table';
export type { CsvTable, CsvTableOptions } from './csv-table';
export { loadNpyDataset, NPY_FILES } from './npy-dataset';
