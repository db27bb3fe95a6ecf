import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveRun, loadDataset, manifestDatasetOf } from '@chorus/data';
import { evaluateEnsemble, runResultOf } from '@chorus/ensemble';
import { buildModel, disposeModel, predictProbabilities, writeEnsembleExport } from '@chorus/models';
import { parseRunConfig } from '@chorus/protocol';

/**
 * For tests: a real export of three untrained mlp members (their own seeds, so they disagree) on
 * the synthetic dataset (8×8, 4 classes, raw values already in [0, 1]), and its test rows.
 */
export async function writeTestEnsemble(): Promise<{
  dir: string;
  testX: Float32Array;
  features: number;
  remove: () => Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-serve-'));
  const dir = join(root, 'ensemble');
  const config = parseRunConfig({ dataset: 'synthetic', model: 'mlp', members: 3, epochs: 1, seed: 11 });
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
    runId: 'local-serve-test',
    config,
    dataset: manifestDatasetOf('synthetic', dataset.sha256),
    result: runResultOf(evaluation, [0, 0, 0]),
    combiners: evaluation.combiners,
    models,
  });
  models.forEach(disposeModel);
  return {
    dir,
    testX: dataset.test.x,
    features: 64,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
