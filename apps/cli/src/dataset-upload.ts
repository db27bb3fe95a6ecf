import { createHash } from 'node:crypto';
import {
  bundleSha256,
  encodeDatasetBundle,
  loadRunDataset,
  type Dataset,
  type LoadProgress,
} from '@chorus/data';
import { ChorusError, isFileDatasetKind, type HttpClient, type RunConfig } from '@chorus/protocol';

export interface UploadOutcome {
  /** The config to launch: `datasetBundle` instead of the local `datasetPath`. */
  config: RunConfig;
  dataset: Dataset;
  sha256: string;
  bytes: number;
  /** False when the coordinator had the bundle already (nothing was sent). */
  uploaded: boolean;
}

/**
 * Brings a csv/npy/images dataset from this machine to the coordinator (README "Your own data"): loads it
 * as `chorus train` would (the run seed holds out a csv's test rows), lets `check` refuse it
 * (model input, parameter limit), encodes its bundle and uploads it unless the coordinator has
 * that sha256 already. Returns null for a built-in dataset, which the coordinator reads itself.
 */
export async function uploadOwnDataset(
  client: HttpClient,
  token: string,
  cfg: RunConfig,
  options: {
    onLoadProgress?: (p: LoadProgress) => void;
    check?: (dataset: Dataset) => void;
    log?: (line: string) => void;
  } = {},
): Promise<UploadOutcome | null> {
  if (!isFileDatasetKind(cfg.dataset) || cfg.datasetPath === undefined) return null;
  const dataset = await loadRunDataset(
    cfg,
    options.onLoadProgress ? { onProgress: options.onLoadProgress } : {},
  );
  options.log?.(`dataset: ${dataset.source}`);
  options.check?.(dataset);
  const bundle = encodeDatasetBundle(dataset);
  const sha256 = bundleSha256(bundle);
  const status = await client.getDatasetStatus({ params: { sha256 } }, { token });
  let uploaded = false;
  if (!status.stored) {
    options.log?.(
      `uploading ${cfg.datasetPath} as dataset bundle ${sha256.slice(0, 12)}… (${bundle.length.toLocaleString('en-US')} bytes)`,
    );
    await client.putDataset({ params: { sha256 }, upload: { headers: {}, bytes: bundle } }, { token });
    uploaded = true;
  } else {
    options.log?.(`dataset bundle ${sha256.slice(0, 12)}… is on the coordinator already: nothing to upload`);
  }
  const { datasetPath: _local, ...rest } = cfg;
  return { config: { ...rest, datasetBundle: sha256 }, dataset, sha256, bytes: bundle.length, uploaded };
}

/**
 * Brings a `--model-file`'s initial weights to the coordinator (README "Your own model"): uploaded
 * once under the sha256 the run config names (`modelFile.weights`), unless it has them already.
 * Returns whether anything was sent.
 */
export async function uploadModelWeights(
  client: HttpClient,
  token: string,
  cfg: RunConfig,
  weights: Uint8Array,
  log?: (line: string) => void,
): Promise<boolean> {
  const named = cfg.modelFile?.weights;
  if (named === undefined) return false;
  const sha256 = createHash('sha256').update(weights).digest('hex');
  if (sha256 !== named.sha256) {
    throw new ChorusError(
      'internal',
      `the weights read have sha256 ${sha256}, the run config names ${named.sha256}`,
    );
  }
  const status = await client.getWeightsStatus({ params: { sha256 } }, { token });
  if (status.stored) {
    log?.(`model weights ${sha256.slice(0, 12)}… are on the coordinator already: nothing to upload`);
    return false;
  }
  log?.(
    `uploading the weights of ${cfg.modelFile?.fileName} as ${sha256.slice(0, 12)}… (${weights.length.toLocaleString('en-US')} bytes)`,
  );
  await client.putWeights({ params: { sha256 }, upload: { headers: {}, bytes: weights } }, { token });
  return true;
}
