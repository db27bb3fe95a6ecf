import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  ChorusError,
  ENSEMBLE_FORMAT,
  ENSEMBLE_FORMAT_VERSION,
  ENSEMBLE_MANIFEST_FILE,
  EnsembleManifestSchema,
  formatIssues,
  LEARNED_COMBINERS,
  VOTING_STRATEGIES,
  type EnsembleManifest,
  type ManifestCombiners,
  type ManifestDataset,
  type RunConfig,
  type RunResult,
  type StrategyName,
} from '@chorus/protocol';
import { layersModelFiles } from './layers-files';

export interface EnsembleExportInput {
  /** The coordinator's run id, or `local-…` for `chorus train --save`. */
  runId: string;
  config: RunConfig;
  dataset: ManifestDataset;
  /** The run's final result: its members' accuracies and weights become the manifest's members. */
  result: RunResult;
  /** The learned combiners' parameters fitted on the validation split (evaluateEnsemble's `combiners`). */
  combiners: ManifestCombiners;
  /** The trained members, in member order (they are only read). */
  models: readonly tfl.LayersModel[];
  /** Default: the fixed votes, then each learned combiner that `combiners` holds. */
  strategies?: readonly StrategyName[];
  /** Default: `soft`. */
  defaultStrategy?: StrategyName;
  /** Default: now. */
  createdAt?: Date;
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Writes an exported ensemble to `dir` (README "Take the ensemble away"): `ensemble.json` and
 * `members/<i>/model.json` + shards. The directory must not exist or be empty; the files are
 * written beside it first and moved in place at the end, so a failed export leaves no half directory.
 */
export async function writeEnsembleExport(
  dir: string,
  input: EnsembleExportInput,
): Promise<EnsembleManifest> {
  const { result, models } = input;
  if (models.length !== result.members.length) {
    throw new ChorusError(
      'invalid-input',
      `the result describes ${result.members.length} members, got ${models.length} models`,
    );
  }
  await checkExportTarget(dir);
  const files: Record<string, string> = {};
  const writes: { path: string; bytes: Uint8Array | string }[] = [];
  for (const [i, model] of models.entries()) {
    const { modelJson, shards } = await layersModelFiles(model);
    for (const file of [{ name: 'model.json', bytes: modelJson }, ...shards]) {
      const path = `members/${i}/${file.name}`;
      files[path] = sha256(file.bytes);
      writes.push({ path, bytes: file.bytes });
    }
  }
  const strategies = input.strategies ?? [
    ...VOTING_STRATEGIES,
    ...LEARNED_COMBINERS.filter((c) => input.combiners[c] !== undefined),
  ];
  const parsed = EnsembleManifestSchema.safeParse({
    format: ENSEMBLE_FORMAT,
    version: ENSEMBLE_FORMAT_VERSION,
    runId: input.runId,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    config: input.config,
    dataset: input.dataset,
    strategies: [...strategies],
    defaultStrategy: input.defaultStrategy ?? 'soft',
    members: result.members.map((m, i) => ({
      index: i,
      path: `members/${i}`,
      valAccuracy: m.valAccuracy,
      testAccuracy: m.testAccuracy,
      weight: result.weights[i],
    })),
    combiners: input.combiners,
    result,
    files,
  } satisfies Record<keyof EnsembleManifest, unknown>);
  if (!parsed.success) {
    throw new ChorusError('invalid-input', `cannot export this ensemble:\n${formatIssues(parsed.error)}`);
  }
  const manifest = parsed.data;

  const staging = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  try {
    for (const { path, bytes } of writes) {
      await mkdir(dirname(join(staging, path)), { recursive: true });
      await writeFile(join(staging, path), bytes);
    }
    await writeFile(join(staging, ENSEMBLE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true }); // empty (checked above)
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return manifest;
}

/** Refuses a target that exists and is not an empty directory (call it before training, to fail fast). */
export async function checkExportTarget(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new ChorusError('invalid-input', `${dir} is a file, not a directory`);
    }
    throw error;
  }
  if (entries.length > 0) {
    throw new ChorusError('conflict', `${dir} is not empty: export into a new or empty directory`);
  }
}
