import {
  checkReadablePath,
  decodeDatasetBundle,
  isDatasetError,
  loadRunDataset,
  type Dataset,
  type ReadLimits,
} from '@chorus/data';
import { ChorusError, isFileDatasetKind, type RunConfig } from '@chorus/protocol';
import type { DatasetStore } from './dataset-store';

/** The most bytes one dataset file may hold (decompressed) unless configured: MNIST's largest is 47 MB. */
export const DEFAULT_DATASET_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Loads the dataset of a run config. A `datasetPath` comes from whoever holds the admin token, so
 * it is read only within `limits` (README "Security and limits"): under the dataset roots once
 * symbolic links are resolved, regular files (or a directory of them), size-capped; and what a
 * refusal says never quotes the file, only its path and what is wrong with it.
 */
export async function loadDatasetOf(config: RunConfig, limits: ReadLimits): Promise<Dataset> {
  if (config.datasetBundle !== undefined) {
    throw new ChorusError(
      'unavailable',
      `dataset bundle ${config.datasetBundle} is not stored on this coordinator and cannot be rebuilt (it was uploaded): upload it again (PUT /api/datasets/${config.datasetBundle})`,
    );
  }
  const path = config.datasetPath;
  if (path === undefined) return loadRunDataset(config);
  try {
    await checkReadablePath(path, limits, { directory: true });
    return await loadRunDataset(config, { limits });
  } catch (error) {
    if (!isDatasetError(error)) throw error;
    if (error.code === 'corrupt' || error.code === 'unsupported') {
      // Parse errors quote what they read (a CSV field, a header): never sent back.
      const where = `${error.path ?? path}${error.line !== undefined ? ` line ${error.line}` : ''}`;
      throw new ChorusError(
        'invalid-input',
        `datasetPath: ${where} is not a ${config.dataset} file this coordinator reads (${error.code}); ${
          isFileDatasetKind(config.dataset)
            ? `\`chorus train --dataset ${config.dataset} --dataset-path ${path}\` on this machine says what is wrong`
            : '`chorus datasets --dataset-path` on this machine says more'
        }`,
      );
    }
    throw new ChorusError('invalid-input', `datasetPath: ${error.message}`);
  }
}

/**
 * The dataset of a run that names an uploaded bundle (`datasetBundle`): read from the store,
 * checked against its hash, decoded; refused when it is not there or holds another kind of data.
 */
export async function uploadedDataset(
  store: Pick<DatasetStore, 'read'>,
  config: RunConfig,
  sha: string,
): Promise<Dataset> {
  const bytes = await store.read(sha);
  if (bytes === undefined) {
    throw new ChorusError(
      'invalid-input',
      `datasetBundle: no dataset bundle ${sha} on this coordinator: upload it first (PUT /api/datasets/${sha}, as \`chorus run\` does)`,
    );
  }
  let dataset: Dataset;
  try {
    dataset = decodeDatasetBundle(bytes, `dataset bundle ${sha}`);
  } catch (error) {
    if (isDatasetError(error)) throw new ChorusError('invalid-input', `datasetBundle: ${error.message}`);
    throw error;
  }
  if (dataset.name !== config.dataset) {
    throw new ChorusError(
      'invalid-input',
      `datasetBundle: bundle ${sha} holds a ${dataset.name} dataset, but the run says dataset ${config.dataset}`,
    );
  }
  return dataset;
}
