import { memberModelSpec, type MemberModelSpec, type RunConfig } from '@chorus/protocol';
import { loadDataset } from './registry';
import { planShards, type ShardPlan } from './sharding';
import { prepareRunData, type SplitSettings } from './split';
import type { Dataset, LoadOptions, Split } from './types';

/**
 * Everything a run config and its dataset determine: the rows each split holds, every member's
 * mini-batches, every member's model spec (with its derived seed). `chorus train`, the coordinator
 * and every worker call `deriveRun`, so they all train and evaluate on the same rows in the same
 * order with the same weights at the start.
 */
export interface DerivedRun<S extends LabelSplit = Split> extends RunSplits<S> {
  plan: ShardPlan;
  /** The model spec of member m at index m. */
  members: MemberModelSpec[];
}

/** The three splits of a run, with or without their features. */
export interface RunSplits<S extends LabelSplit = Split> {
  train: S;
  validation: S;
  test: S;
}

/** A split without its features: what the coordinator keeps (truth labels and counts). */
export type LabelSplit = Pick<Split, 'y' | 'count'>;

/**
 * The config fields that choose a run's rows, and only those: `deriveRun` and `deriveSplits` hand
 * prepareRunData nothing else, so (dataset hash, these) identifies prepared splits (a cache key).
 */
export function splitSettingsOf(config: SplitSettings): SplitSettings {
  const { seed, validationFraction, trainLimit } = config;
  return { seed, validationFraction, ...(trainLimit !== undefined ? { trainLimit } : {}) };
}

/**
 * How the dataset of a config is loaded: its `datasetPath`, its `datasetOptions` (csv, npy, images), and
 * the run seed (the synthetic generator's, a csv's test hold-out).
 */
export function datasetOptionsOf(
  config: Pick<RunConfig, 'datasetPath' | 'seed'> & Partial<Pick<RunConfig, 'datasetOptions'>>,
): LoadOptions {
  const o = config.datasetOptions ?? {};
  return {
    ...(config.datasetPath ? { path: config.datasetPath } : {}),
    seed: config.seed,
    ...(o.labelColumn !== undefined && { labelColumn: o.labelColumn }),
    ...(o.testPath !== undefined && { testPath: o.testPath }),
    ...(o.testFraction !== undefined && { testFraction: o.testFraction }),
    ...(o.normalize !== undefined && { normalize: o.normalize }),
    ...(o.imageSize !== undefined && { imageSize: o.imageSize }),
    ...(o.channels !== undefined && { channels: o.channels }),
  };
}

/**
 * What the dataset `loadRunDataset(config)` loads depends on, as a string key: its name, its path,
 * and the seed only for the generated dataset (the files of the others do not depend on it).
 */
export function datasetKeyOf(
  config: Pick<RunConfig, 'dataset' | 'datasetPath' | 'seed'> &
    Partial<Pick<RunConfig, 'datasetOptions' | 'datasetBundle'>>,
): string {
  const { path = null, seed } = datasetOptionsOf(config);
  // An images folder without train/ and test/ is held out with the seed too (its layout is not known here).
  const seeded =
    config.dataset === 'synthetic' ||
    config.dataset === 'images' ||
    (config.dataset === 'csv' && config.datasetOptions?.testPath === undefined);
  return JSON.stringify([
    config.dataset,
    path,
    seeded ? seed : null,
    config.datasetOptions ?? null,
    config.datasetBundle ?? null,
  ]);
}

/**
 * The dataset of a config, loaded as every process of the run loads it (`limits`: io.ts; a progress
 * callback for large files). A config naming an uploaded `datasetBundle` has nothing to load here:
 * the coordinator reads it from its store.
 */
export function loadRunDataset(
  config: RunConfig,
  extra: Pick<LoadOptions, 'limits' | 'onProgress'> = {},
): Promise<Dataset> {
  return loadDataset(config.dataset, { ...datasetOptionsOf(config), ...extra });
}

/**
 * The splits of `deriveRun`, alone: they read `splitSettingsOf(config)` and nothing else (for a
 * process that needs the rows but not the plan, e.g. a worker, whose mini-batches come from the
 * coordinator). `{ features: false }` as in deriveRun.
 */
export function deriveSplits(config: SplitSettings, dataset: Pick<Dataset, 'train' | 'test'>): RunSplits;
export function deriveSplits(
  config: SplitSettings,
  dataset: { train: LabelSplit; test: LabelSplit },
  options: { features: false },
): RunSplits<LabelSplit>;
export function deriveSplits(
  config: SplitSettings,
  dataset: { train: Split | LabelSplit; test: Split | LabelSplit },
  options: { features?: false } = {},
): RunSplits<LabelSplit> {
  return splitsOf(config, dataset, options.features !== false);
}

function splitsOf(
  config: SplitSettings,
  dataset: { train: Split | LabelSplit; test: Split | LabelSplit },
  features: boolean,
): RunSplits {
  // Without features, every row has 0 of them: prepareRunData then selects rows and copies labels only.
  const source = (split: Split | LabelSplit): Split =>
    features && 'x' in split ? split : { x: new Float32Array(0), y: split.y, count: split.count };
  return prepareRunData(
    { train: source(dataset.train), test: source(dataset.test) },
    splitSettingsOf(config),
  );
}

/**
 * Derives a run from its config and dataset; throws DatasetError when the config cannot work (a
 * validation fraction that leaves no row, a sharding that gives a member nothing).
 *
 * `{ features: false }` derives it from the labels alone: the row selection depends on row counts
 * and the seed only, so the splits come out the same but no feature row is copied (12,000 MNIST
 * rows are 37 MB of floats) — for a process that only checks predictions against the truth.
 */
export function deriveRun(config: RunConfig, dataset: Pick<Dataset, 'train' | 'test'>): DerivedRun;
export function deriveRun(
  config: RunConfig,
  dataset: { train: LabelSplit; test: LabelSplit },
  options: { features: false },
): DerivedRun<LabelSplit>;
export function deriveRun(
  config: RunConfig,
  dataset: { train: Split | LabelSplit; test: Split | LabelSplit },
  options: { features?: false } = {},
): DerivedRun<LabelSplit> {
  const { train, validation, test } = splitsOf(config, dataset, options.features !== false);
  const plan = planShards({
    strategy: config.sharding,
    numSamples: train.count,
    members: config.members,
    batchSize: config.batchSize,
    epochs: config.epochs,
    seed: config.seed,
  });
  const members = Array.from({ length: config.members }, (_, m) => memberModelSpec(config, m));
  return { train, validation, test, plan, members };
}
