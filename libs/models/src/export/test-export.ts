import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveRun, loadDataset, manifestDatasetOf } from '@chorus/data';
import { evaluateEnsemble, runResultOf } from '@chorus/ensemble';
import { parseRunConfig, type ModelName } from '@chorus/protocol';
import { buildModel } from '../models/registry';
import { disposeModel } from '../dispose';
import { predictProbabilities } from '../predict';
import { writeEnsembleExport } from './write';

/**
 * For tests: a real export of untrained members (their own seeds, so they disagree) on the
 * synthetic dataset (8×8, 4 classes, raw values already in [0, 1]), and its test rows. Untrained is
 * enough where a test compares two ways of answering from the same export.
 */
export async function writeTestEnsemble(
  options: { model?: ModelName; members?: number; seed?: number; runId?: string } = {},
): Promise<{
  dir: string;
  testX: Float32Array;
  testCount: number;
  features: number;
  remove: () => Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-test-ensemble-'));
  const dir = join(root, 'ensemble');
  const config = parseRunConfig({
    dataset: 'synthetic',
    model: options.model ?? 'mlp',
    members: options.members ?? 3,
    epochs: 1,
    seed: options.seed ?? 11,
  });
  const dataset = await loadDataset('synthetic');
  const run = deriveRun(config, dataset);
  const models = run.members.map((spec) =>
    buildModel({ ...spec, inputShape: dataset.inputShape, numClasses: dataset.numClasses }),
  );
  const probs = (x: Float32Array) =>
    Promise.all(models.map((m) => predictProbabilities(m, x, dataset.inputShape)));
  const evaluation = evaluateEnsemble({
    numClasses: dataset.numClasses,
    validation: { members: await probs(run.validation.x), truth: run.validation.y },
    test: { members: await probs(dataset.test.x), truth: dataset.test.y },
    seed: config.seed,
  });
  await writeEnsembleExport(dir, {
    runId: options.runId ?? 'test-ensemble',
    config,
    dataset: manifestDatasetOf('synthetic', dataset.sha256),
    result: runResultOf(
      evaluation,
      models.map(() => 0),
    ),
    combiners: evaluation.combiners,
    models,
  });
  models.forEach(disposeModel);
  return {
    dir,
    testX: dataset.test.x,
    testCount: dataset.test.count,
    features: dataset.test.x.length / dataset.test.count,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
