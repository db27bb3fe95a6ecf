import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveRun, loadDataset, manifestDatasetOf } from '@chorus/data';
import { evaluateEnsemble, runResultOf } from '@chorus/ensemble';
import { parseRunConfig, type EnsembleManifest } from '@chorus/protocol';
import { selectBackend } from '../backends/select';
import { disposeModel } from '../dispose';
import { buildModel } from '../models/registry';
import { predictProbabilities } from '../predict';
import { applyPreprocess } from './preprocess';
import { predictWithEnsemble } from './predict';
import { readEnsembleExport } from './read';
import { writeEnsembleExport } from './write';

// Three untrained mlp members (different seeds, so they disagree) on the synthetic dataset: the
// export must reproduce their probabilities exactly and every strategy's test accuracy.
const config = parseRunConfig({ dataset: 'synthetic', model: 'mlp', members: 3, epochs: 1, seed: 5 });
let root: string;
let dir: string;
let manifest: EnsembleManifest;
let testX: Float32Array;
let testY: Int32Array;
let memberTest: Float32Array[];

beforeAll(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'chorus-export-'));
  dir = join(root, 'ensemble');
  const dataset = await loadDataset('synthetic');
  const run = deriveRun(config, dataset);
  const models = run.members.map((spec) =>
    buildModel({ ...spec, inputShape: dataset.inputShape, numClasses: dataset.numClasses }),
  );
  memberTest = await Promise.all(
    models.map((m) => predictProbabilities(m, dataset.test.x, dataset.inputShape)),
  );
  const evaluation = evaluateEnsemble({
    numClasses: dataset.numClasses,
    validation: {
      members: await Promise.all(
        models.map((m) => predictProbabilities(m, run.validation.x, dataset.inputShape)),
      ),
      truth: run.validation.y,
    },
    test: { members: memberTest, truth: dataset.test.y },
    seed: config.seed,
  });
  manifest = await writeEnsembleExport(dir, {
    runId: 'local-test',
    config,
    dataset: manifestDatasetOf('synthetic', dataset.sha256),
    result: runResultOf(evaluation, [0, 0, 0]),
    combiners: evaluation.combiners,
    models,
  });
  models.forEach(disposeModel);
  testX = dataset.test.x;
  testY = dataset.test.y;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const accuracy = (classes: Int32Array, truth: Int32Array) =>
  classes.reduce((n, c, i) => n + (c === truth[i] ? 1 : 0), 0) / truth.length;

describe('an exported ensemble', () => {
  it('lists every member file with its sha256 and every strategy of the run', () => {
    expect(Object.keys(manifest.files).sort()).toEqual(
      [0, 1, 2].flatMap((i) => [`members/${i}/group1-shard1of1.bin`, `members/${i}/model.json`]),
    );
    expect(manifest.strategies).toEqual([
      'hard',
      'soft',
      'weighted-soft',
      'weighted-hard',
      'geometric',
      'stacking',
      'optimal-weights',
      'selection',
    ]);
    expect(manifest.members.map((m) => m.weight)).toEqual(manifest.result.weights);
    expect(manifest.dataset.preprocess).toEqual({
      rawRange: [0, 1],
      divisor: 1,
      normalize: null,
      image: { height: 8, width: 8, channels: 1 },
    });
  });

  it('reads back to the same member probabilities and the run test figures of every strategy', async () => {
    const before = tf.memory().numTensors;
    const ensemble = await readEnsembleExport(dir);
    const prediction = await predictWithEnsemble(ensemble, testX, testY.length);
    prediction.memberProbs.forEach((p, m) => expect(p).toEqual(memberTest[m]));
    for (const [name, scores] of Object.entries(manifest.result.ensemble)) {
      const got = prediction.strategies[name as keyof typeof prediction.strategies];
      expect(got, name).toBeDefined();
      expect(Math.abs(accuracy(got!.classes, testY) - scores!.accuracy), name).toBeLessThan(1e-6);
    }
    // Per row, the share of member pairs whose classes differ (no labels needed): by hand from argmaxes.
    const argmax = (p: Float32Array, r: number) => {
      const row = Array.from(p.subarray(r * 4, r * 4 + 4));
      return row.indexOf(Math.max(...row));
    };
    for (let r = 0; r < 20; r++) {
      const [a, b, c] = memberTest.map((p) => argmax(p, r));
      const differing = Number(a !== b) + Number(a !== c) + Number(b !== c);
      expect(prediction.disagreement[r]).toBeCloseTo(differing / 3, 6);
    }
    ensemble.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('votes with a subset of members, leaving the learned combiners out', async () => {
    const ensemble = await readEnsembleExport(dir);
    const prediction = await predictWithEnsemble(ensemble, testX.subarray(0, 64 * 3), 3, { members: [2, 0] });
    expect(prediction.members).toEqual([2, 0]);
    expect(Object.keys(prediction.strategies)).toEqual([
      'hard',
      'soft',
      'weighted-soft',
      'weighted-hard',
      'geometric',
    ]);
    // soft vote of two members = their mean (row 0, class 0), computed by hand
    const soft = prediction.strategies.soft!.probs[0] as number;
    expect(soft).toBeCloseTo(((memberTest[2]![0] as number) + (memberTest[0]![0] as number)) / 2, 6);
    await expect(predictWithEnsemble(ensemble, testX.subarray(0, 64), 1, { members: [3] })).rejects.toThrow(
      'this ensemble has members 0–2; there is no member 3',
    );
    await expect(predictWithEnsemble(ensemble, testX.subarray(0, 60), 1)).rejects.toThrow(
      '1 rows of 64 features (shape [8,8,1]) are 64 values, got 60',
    );
    ensemble.dispose();
  });
});

describe('reading an export refuses', () => {
  const copyOf = async (name: string): Promise<string> => {
    const target = join(root, name);
    await writeEnsembleExport(target, await rebuildInput());
    return target;
  };
  // The same ensemble written again (a second directory to damage).
  const rebuildInput = async () => {
    const ensemble = await readEnsembleExport(dir);
    const { manifest: m } = ensemble;
    return {
      runId: m.runId,
      config: m.config,
      dataset: m.dataset,
      result: m.result,
      combiners: m.combiners,
      models: ensemble.models,
    };
  };

  it('a missing shard, naming it', async () => {
    const target = await copyOf('missing-shard');
    await unlink(join(target, 'members/1/group1-shard1of1.bin'));
    await expect(readEnsembleExport(target)).rejects.toThrow(
      `members/1/group1-shard1of1.bin is missing from ${target}`,
    );
  });

  it('a changed model.json, naming it', async () => {
    const target = await copyOf('changed-json');
    const path = join(target, 'members/0/model.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"units":', '"units": '));
    await expect(readEnsembleExport(target)).rejects.toThrow(
      'members/0/model.json does not match its sha256 in ensemble.json',
    );
  });

  it('an unknown version or format, and a directory that is not an export', async () => {
    const target = await copyOf('version');
    const path = join(target, 'ensemble.json');
    const json = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...json, version: 2 }));
    await expect(readEnsembleExport(target)).rejects.toThrow(
      `${path}: version 2 is not supported (this Chorus reads version 1)`,
    );
    await writeFile(path, JSON.stringify({ ...json, format: 'keras' }));
    await expect(readEnsembleExport(target)).rejects.toThrow(
      `${path}: format "keras" is not "chorus-ensemble"`,
    );
    await expect(readEnsembleExport(root)).rejects.toThrow(`${join(root, 'ensemble.json')} not found`);
  });

  it('to write into a directory that is not empty', async () => {
    await expect(writeEnsembleExport(dir, await rebuildInput())).rejects.toThrow(`${dir} is not empty`);
  });
});

describe('applyPreprocess', () => {
  it('divides, normalizes per channel, and refuses values outside the raw range', () => {
    const pre = { rawRange: [0, 255] as [number, number], divisor: 255, normalize: null, image: null };
    expect(applyPreprocess(pre, [0, 51, 255], 3)).toEqual(Float32Array.of(0, 0.2, 1));
    const norm = { ...pre, normalize: { mean: [0.5, 0], std: [0.5, 2] } };
    // channels last: values alternate channel 0, 1: (0.2 − 0.5)/0.5 = −0.6, (1 − 0)/2 = 0.5
    expect(applyPreprocess(norm, [51, 255], 2)).toEqual(Float32Array.of(Math.fround(-0.6), 0.5));
    expect(() => applyPreprocess(pre, [0, 256, 3], 3)).toThrow(
      'row 0, value 2: 256 is outside the raw range [0, 255]',
    );
    expect(() => applyPreprocess(pre, [0, 1], 3)).toThrow(
      'inputs have 2 values, not a whole number of rows of 3 features',
    );
  });
});
