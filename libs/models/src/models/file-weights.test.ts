import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelFile } from '@chorus/protocol';
import { ModelError } from '../errors';
import { inspectWeights } from '../weights';
import { readFileWeights, startFromFileWeights } from './file-weights';
import { importModelFile } from './keras-import';
import type { Json } from './keras-graph';
import { buildModel } from './registry';

const dir = mkdtempSync(join(tmpdir(), 'chorus-file-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small TF.js model with a convolution, BatchNormalization and a softmax output, random weights. */
function tfjsModel(units = 4): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        name: 'conv',
      }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units, activation: 'relu', name: 'hidden' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' }),
    ],
  });
}

interface Saved {
  jsonPath: string;
  json: {
    modelTopology: Json;
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  };
  shard: string;
}

/** Saves `model` as tfjs' `model.save` does: model.json and one shard, in a folder of its own. */
async function save(model: tfl.LayersModel, name: string): Promise<Saved> {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts;
  const shard = join(folder, 'group1-shard1of1.bin');
  writeFileSync(shard, new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData as ArrayBuffer)));
  const json = {
    format: 'layers-model',
    modelTopology: a.modelTopology as Json,
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: a.weightSpecs as Saved['json']['weightsManifest'][0]['weights'],
      },
    ],
  };
  const jsonPath = join(folder, 'model.json');
  writeFileSync(jsonPath, JSON.stringify(json));
  return { jsonPath, json, shard };
}

function reread(saved: Saved, json: unknown = saved.json): { value: Json; file: ModelFile } {
  writeFileSync(saved.jsonPath, JSON.stringify(json));
  const value = JSON.parse(readFileSync(saved.jsonPath, 'utf8')) as Json;
  return { value, file: importModelFile('model.json', value).modelFile };
}

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (e) {
    if (e instanceof ModelError) return e.message;
    throw e;
  }
  throw new Error('expected a ModelError');
}

describe('readFileWeights and startFromFileWeights', () => {
  it('start a member built from the file with exactly the weights tfjs saved, whatever its seed', async () => {
    const original = tfjsModel();
    const saved = await save(original, 'good');
    const { value, file } = reread(saved);
    const read = await readFileWeights(saved.jsonPath, value, file);
    expect(read).not.toBeNull();
    const { bytes, weights, shards } = read as NonNullable<typeof read>;
    expect(shards).toEqual([saved.shard]);
    expect(weights.tensors).toBe(original.weights.length); // BatchNormalization's statistics included
    expect(weights.bytes).toBe(bytes.length);
    expect(inspectWeights(bytes).map((w) => w.name)).toEqual(original.weights.map((w) => w.originalName));
    const withWeights: ModelFile = { ...file, weights };
    for (const seed of [1, 2]) {
      const member = buildModel({
        name: 'mlp',
        modelFile: withWeights,
        inputShape: [6, 6, 1],
        numClasses: 3,
        seed,
      });
      await startFromFileWeights(member, withWeights, bytes);
      const mine = new Map(member.weights.map((w) => [w.originalName, w.read().dataSync()]));
      for (const w of original.weights)
        expect(mine.get(w.originalName), w.originalName).toEqual(w.read().dataSync());
      const x = tf.randomUniform([2, 6, 6, 1], 0, 1, 'float32', 5);
      expect(Array.from((member.predict(x) as tf.Tensor).dataSync())).toEqual(
        Array.from((original.predict(x) as tf.Tensor).dataSync()),
      );
      member.dispose();
    }
    // The same files give the same container: the sha256 identifies the weights.
    const again = await readFileWeights(saved.jsonPath, value, file);
    expect(again?.weights.sha256).toBe(weights.sha256);
    original.dispose();
  });

  it('a model.json without a manifest, or with an empty one, has no weights', async () => {
    const saved = await save(tfjsModel(), 'none');
    const { value, file } = reread(saved, { ...saved.json, weightsManifest: [] });
    expect(await readFileWeights(saved.jsonPath, value, file)).toBeNull();
    const topology = saved.json.modelTopology;
    expect(
      await readFileWeights(saved.jsonPath, topology, importModelFile('t.json', topology).modelFile),
    ).toBeNull();
  });

  it('refuses a shard cut off, padded or missing, naming the file and the sizes', async () => {
    const saved = await save(tfjsModel(), 'cut');
    const { value, file } = reread(saved);
    const whole = readFileSync(saved.shard);
    writeFileSync(saved.shard, whole.subarray(0, whole.length - 8));
    expect(await refusal(readFileWeights(saved.jsonPath, value, file))).toBe(
      `${saved.shard}: the shard holds ${(whole.length - 8).toLocaleString('en-US')} bytes, but the 10 float32 weights ` +
        `${saved.jsonPath} lists in weightsManifest[0] take ${whole.length.toLocaleString('en-US')}: cut off, padded, or the shard of other weights`,
    );
    writeFileSync(saved.shard, Buffer.concat([whole, Buffer.alloc(4)]));
    expect(await refusal(readFileWeights(saved.jsonPath, value, file))).toMatch(
      /the shard holds [\d,]+ bytes, but/,
    );
    rmSync(saved.shard);
    expect(await refusal(readFileWeights(saved.jsonPath, value, file))).toBe(
      `${saved.shard}: missing (a weight shard that ${saved.jsonPath} lists)`,
    );
  });

  it('refuses a damaged shard (NaN), a weight another model has, a renamed weight, a path out of the folder', async () => {
    const saved = await save(tfjsModel(), 'bad');
    const { value, file } = reread(saved);
    const whole = readFileSync(saved.shard);
    const nan = Buffer.from(whole);
    nan.writeFloatLE(NaN, 8);
    writeFileSync(saved.shard, nan);
    expect(await refusal(readFileWeights(saved.jsonPath, value, file))).toBe(
      `${saved.shard}: weight "conv/kernel" holds NaN (value 2): the shard is damaged or not float32`,
    );
    writeFileSync(saved.shard, whole);

    // The weights of a model with a wider hidden layer, beside this model's topology.
    const wide = await save(tfjsModel(5), 'wide');
    const mixed = {
      ...saved.json,
      weightsManifest: [{ ...wide.json.weightsManifest[0], paths: ['../wide/group1-shard1of1.bin'] }],
    };
    expect(await refusal(readFileWeights(saved.jsonPath, ...args(reread(saved, mixed))))).toBe(
      `${saved.jsonPath}: weightsManifest[0].paths[0] "../wide/group1-shard1of1.bin" is not a file name beside model.json`,
    );
    writeFileSync(join(dir, 'bad', 'wide.bin'), readFileSync(wide.shard));
    const widened = { ...mixed, weightsManifest: [{ ...mixed.weightsManifest[0], paths: ['wide.bin'] }] };
    expect(await refusal(readFileWeights(saved.jsonPath, ...args(reread(saved, widened))))).toBe(
      `the weights of ${saved.jsonPath}: weight "hidden/kernel" has shape [48, 5]; layer 3 'hidden' (Dense) needs [48, 4]`,
    );

    const renamed = structuredClone(saved.json);
    (renamed.weightsManifest[0]?.weights[0] as { name: string }).name = 'convolution/kernel';
    expect(await refusal(readFileWeights(saved.jsonPath, ...args(reread(saved, renamed))))).toMatch(
      /^the weights of .*model\.json have no weight "conv\/kernel" \(of layer 0 'conv' \(Conv2D\)\); they have "convolution\/kernel", "conv\/bias", /,
    );
    const quantized = structuredClone(saved.json);
    (quantized.weightsManifest[0]?.weights[0] as { quantization?: unknown }).quantization = {
      dtype: 'uint8',
      min: 0,
      scale: 1,
    };
    expect(await refusal(readFileWeights(saved.jsonPath, ...args(reread(saved, quantized))))).toMatch(
      /weightsManifest\[0\]\.weights\[0\] "conv\/kernel" is quantized \(uint8\): Chorus starts from float32 weights only/,
    );
  });

  it('startFromFileWeights refuses bytes that are not the ones the run config names', async () => {
    const saved = await save(tfjsModel(), 'sha');
    const { value, file } = reread(saved);
    const read = (await readFileWeights(saved.jsonPath, value, file)) as NonNullable<
      Awaited<ReturnType<typeof readFileWeights>>
    >;
    const withWeights: ModelFile = { ...file, weights: read.weights };
    const member = buildModel({
      name: 'mlp',
      modelFile: withWeights,
      inputShape: [6, 6, 1],
      numClasses: 3,
      seed: 1,
    });
    const changed = read.bytes.slice();
    changed[changed.length - 1] = (changed.at(-1) as number) ^ 1;
    expect(await refusal(startFromFileWeights(member, withWeights, changed))).toMatch(
      new RegExp(
        `^the initial weights of model\\.json should have sha256 ${read.weights.sha256}, these \\d+ bytes have [0-9a-f]{64}$`,
      ),
    );
    member.dispose();
  });
});

const args = (r: { value: Json; file: ModelFile }): [Json, ModelFile] => [r.value, r.file];
