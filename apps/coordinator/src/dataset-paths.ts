import {
  checkReadablePath,
  isDatasetError,
  loadRunDataset,
  type Dataset,
  type ReadLimits,
} from '@chorus/data';
import { ChorusError, type RunConfig } from '@chorus/protocol';

/** The most bytes one dataset file may hold (decompressed) unless configured: MNIST's largest is 47 MB. */
export const DEFAULT_DATASET_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Loads the dataset of a run config. A `datasetPath` comes from whoever holds the admin token, so
 * it is read only within `limits` (README "Security and limits"): under the dataset roots once
 * symbolic links are resolved, regular files (or a directory of them), size-capped; and what a
 * refusal says never quotes the file, only its path and what is wrong with it.
 */
export async function loadDatasetOf(config: RunConfig, limits: ReadLimits): Promise<Dataset> {
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
        `datasetPath: ${where} is not a ${config.dataset} file this coordinator reads (${error.code}); \`chorus datasets --dataset-path\` on this machine says more`,
      );
    }
    throw new ChorusError('invalid-input', `datasetPath: ${error.message}`);
  }
}
