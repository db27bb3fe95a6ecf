import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countMemberParams, verifyCheckpointBytes, type ModelFile } from '@chorus/protocol';
import { selectBackend } from './backends/select';
import {
  crc32,
  decodeCheckpoint,
  encodeCheckpoint,
  encodeCheckpointYielding,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint';
import type { CheckpointParts } from './checkpoint';
import { disposeModel } from './dispose';
import { ModelError } from './errors';
import { buildModel, buildModelYielding } from './models/registry';
import { batchPlan, syntheticData, weightValues } from './test-helpers';
import { trainOnBatches } from './training/train';
import { saveWeights } from './weights';

const parts: CheckpointParts = {
  // Not a multiple of 8 long: the slots after it must still start aligned.
  weights: Uint8Array.from({ length: 13 }, (_, i) => i * 7),
  training: {
    step: 42,
    optimizer: {
      name: 'Adam',
      iterations: 41,
      scalars: { accBeta1: 0.0131 },
      slots: [
        { variable: 'hidden1/kernel', slot: 'm', values: Float32Array.of(1, -2.5, 3e-38, -0) },
        { variable: 'hidden1/kernel', slot: 'v', values: Float32Array.of(0.25, 1e-12, 7, 8) },
        { variable: 'hidden1/bias', slot: 'm', values: Float32Array.of(Math.PI) },
      ],
    },
  },
};

function refusal(bytes: Uint8Array): ModelError {
  try {
    decodeCheckpoint(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    expect((e as ModelError).code).toBe('weights-mismatch');
    return e as ModelError;
  }
  throw new Error('decodeCheckpoint accepted the bytes');
}

describe('checkpoint container', () => {
  it('round-trips weights, step and optimizer slots bit for bit', () => {
    const bytes = encodeCheckpoint(parts);
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.format).toBe('container');
    expect(decoded.weights).toEqual(parts.weights);
    expect(decoded.training).toEqual(parts.training);
    // -0 survives (toEqual treats it as 0): compare the bits.
    const m = decoded.training?.optimizer?.slots[0]?.values as Float32Array;
    expect(new Uint32Array(m.buffer)[3]).toBe(0x80000000);
  });

  it('describes itself: magic, version, a JSON header of sections with byte ranges and checksums', () => {
    const bytes = encodeCheckpoint(parts);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('CHCK');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(4, true)).toBe(1);
    const headerLength = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
    expect(header.step).toBe(42);
    expect(header.optimizer).toEqual({ name: 'Adam', iterations: 41, scalars: { accBeta1: 0.0131 } });
    const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
    expect(header.sections.map((s: { name: string }) => s.name)).toEqual([
      'weights',
      'optimizer/hidden1/kernel/m',
      'optimizer/hidden1/kernel/v',
      'optimizer/hidden1/bias/m',
    ]);
    expect(header.sections.map((s: { offset: number; length: number }) => [s.offset, s.length])).toEqual([
      [0, 13],
      [16, 16],
      [32, 16],
      [48, 4],
    ]);
    const weights = bytes.subarray(dataStart, dataStart + 13);
    expect(weights).toEqual(parts.weights);
    expect(header.sections[0].crc32).toBe(crc32(weights));
    expect(bytes.length).toBe(dataStart + 52);
  });

  it('encodes the same bytes in pieces, the event loop running in between', async () => {
    // Slots larger than a piece (8 MiB), so checksums and copies take several pieces each.
    const big: CheckpointParts = {
      weights: Uint8Array.from({ length: 9 << 20 }, (_, i) => (i * 31) & 0xff),
      training: {
        step: 3,
        optimizer: {
          name: 'Adam',
          iterations: 3,
          scalars: {},
          slots: [
            { variable: 'd/kernel', slot: 'm', values: Float32Array.from({ length: 5 << 20 }, (_, i) => i) },
          ],
        },
      },
    };
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const bytes = await encodeCheckpointYielding(big).finally(() => clearInterval(ticker));
    expect(Buffer.from(bytes).equals(Buffer.from(encodeCheckpoint(big)))).toBe(true);
    expect(turns).toBeGreaterThan(0);
  });

  it('CRC-32 is the zlib one', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('refuses corrupt or truncated bytes with a clear error', () => {
    const bytes = encodeCheckpoint(parts);
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    const flip = (at: number): Uint8Array => {
      const copy = bytes.slice();
      copy[at] = (copy[at] as number) ^ 0x10;
      return copy;
    };
    expect(refusal(new Uint8Array(5)).message).toMatch(/5 bytes are too few/);
    expect(refusal(new Uint8Array(64)).message).toMatch(/neither a Chorus checkpoint nor Chorus weights/);
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(4, 2, true);
    expect(refusal(future).message).toMatch(/version 2 is not supported \(this build reads version 1\)/);
    expect(refusal(bytes.subarray(0, 20)).message).toMatch(/header is truncated/);
    for (const cut of [1, 4, 30])
      expect(refusal(bytes.subarray(0, bytes.length - cut)).message).toMatch(
        /its header describes .*truncated/,
      );
    expect(refusal(flip(12)).message).toMatch(/header is not valid JSON/);
    expect(refusal(flip(bytes.length - 1)).message).toMatch(
      /section optimizer\/hidden1\/bias\/m fails its checksum/,
    );
    const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
    expect(refusal(flip(dataStart + 2)).message).toMatch(/section weights fails its checksum/);
  });

  it('reads the older weights-only format as weights without training state', () => {
    const legacy = Uint8Array.from([...new TextEncoder().encode('CHWT'), 1, 0, 0, 0, 2, 0, 0, 0, 123, 125]);
    expect(decodeCheckpoint(legacy)).toEqual({ format: 'weights-only', weights: legacy, training: null });
  });
});

const data = syntheticData(320, [8, 8, 1], 4, 1);
const small = { inputShape: [8, 8, 1], numClasses: 4 };
const N = 14;
const K = 6;
const batches = [...batchPlan(data.count, 32, 2, 11)].slice(0, N);

/** Model files (ModelFile, as `--model-file` stores them): a convnet and a dense one with logits. */
const CNN_FILE: ModelFile = {
  fileName: 'cnn.json',
  name: 'cnn',
  inputShape: [8, 8, 1],
  layers: [
    {
      kind: 'conv2d',
      name: 'c1',
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'linear',
      init: 'glorotUniform',
    },
    { kind: 'batchNorm', name: 'bn', momentum: 0.9, epsilon: 0.001 },
    { kind: 'activation', name: 'act', activation: 'relu' },
    { kind: 'maxPool', name: 'pool', poolSize: 2, strides: 2, padding: 'valid' },
    { kind: 'dropout', name: 'drop', rate: 0.25 },
    { kind: 'flatten', name: 'flat' },
    { kind: 'dense', name: 'out', units: 4, activation: 'softmax', init: 'glorotUniform' },
  ],
};
const DENSE_FILE: ModelFile = {
  fileName: 'dense.json',
  name: 'dense',
  inputShape: [64],
  layers: [
    { kind: 'dense', name: 'h', units: 24, activation: 'tanh', init: 'lecunNormal' },
    { kind: 'dropout', name: 'd', rate: 0.3 },
    { kind: 'dense', name: 'logits', units: 4, activation: 'linear', init: 'heUniform' },
  ],
};

const cases = [
  // Dense fast path with three dropout layers; Adam's t, m, v must carry over.
  {
    label: 'fashion-dnn, Adam, dropout 0.3',
    config: { name: 'fashion-dnn' as const, width: 51, learningRate: 0.003 },
  },
  // Tape-free convnet path (conv-plan.ts): dropout 0.5 masks derived from the step.
  { label: 'small-cnn, Adam, dropout 0.5', config: { name: 'small-cnn' as const, width: 8 } },
  // tf.variableGrads path: BatchNorm moving statistics (weights) and a dropout layer.
  { label: 'sign-cnn, Adam, BatchNorm + dropout', config: { name: 'sign-cnn' as const, width: 102 } },
  {
    label: 'mlp, SGD, dropout 0.2',
    config: { name: 'mlp' as const, optimizer: 'sgd' as const, learningRate: 0.1, dropout: 0.2 },
  },
  // A model-file member: tf.variableGrads path with BatchNorm, an Activation layer and dropout.
  {
    label: 'model file convnet, Adam, BatchNorm + dropout',
    config: { name: 'mlp' as const, modelFile: CNN_FILE },
  },
  // A dense model file (flat input from 8×8×1 samples): the dense fast path.
  {
    label: 'model file dense, Adam, dropout 0.3',
    config: { name: 'mlp' as const, modelFile: DENSE_FILE, learningRate: 0.01 },
  },
];

describe.each(['cpu', 'wasm'] as const)('resuming from a checkpoint on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each(cases)(
    '$label: k steps + checkpoint + fresh model + N−k steps = N steps, exactly',
    async ({ config }) => {
      const build = () => buildModel({ ...config, ...small, seed: 5 });
      const before = tf.memory().numTensors;

      // Built layer by layer with turns of the event loop (what a worker does): the same model.
      const straight = await buildModelYielding({ ...config, ...small, seed: 5 });
      await trainOnBatches({ model: straight, data, batches: batches });
      const expected = weightValues(straight);
      disposeModel(straight);

      const first = build();
      await trainOnBatches({ model: first, data, batches: batches.slice(0, K) });
      let tensors = tf.memory().numTensors;
      const bytes = await saveCheckpoint(first);
      expect(tf.memory().numTensors).toBe(tensors);
      const legacy = await saveWeights(first);
      disposeModel(first);

      const resumed = build();
      tensors = tf.memory().numTensors;
      const loaded = await loadCheckpoint(resumed, bytes);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(loaded).toEqual({ format: 'container', step: K, optimizerRestored: true });
      const steps: number[] = [];
      await trainOnBatches({
        model: resumed,
        data,
        batches: batches.slice(K),
        metricsEvery: 4,
        onBatch: (m) => {
          steps.push(m.step);
        },
      });
      expect(steps).toEqual([K + 4, K + 8]); // the step count continues from the checkpoint's
      const actual = weightValues(resumed);
      disposeModel(resumed);
      expect([...actual.keys()]).toEqual([...expected.keys()]);
      // Bit-identical on both backends (single-threaded kernels, same operation order).
      for (const [name, values] of expected) expect(actual.get(name), name).toEqual(values);

      // The older weights-only checkpoint loads too (step kept, optimizer fresh): with Adam it
      // drifts, which shows the comparison above can tell.
      const old = build();
      expect(await loadCheckpoint(old, legacy, { fallbackStep: K })).toEqual({
        format: 'weights-only',
        step: K,
        optimizerRestored: false,
      });
      await trainOnBatches({ model: old, data, batches: batches.slice(K) });
      const drifted = weightValues(old);
      disposeModel(old);
      const same = [...expected].every(([name, values]) =>
        tf.util.arraysEqual(drifted.get(name) as Float32Array, values),
      );
      expect(same).toBe(config.optimizer === 'sgd');

      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('refuses a checkpoint of another optimizer or model, changing nothing', async () => {
    const adam = buildModel({ name: 'mlp', ...small, seed: 1 });
    await trainOnBatches({ model: adam, data, batches: batches.slice(0, 2) });
    const bytes = await saveCheckpoint(adam);
    const sgd = buildModel({ name: 'mlp', ...small, seed: 2, optimizer: 'sgd' });
    const wider = buildModel({ name: 'mlp', ...small, seed: 1, width: 100 });
    const cases: [typeof sgd, RegExp][] = [
      [sgd, /holds Adam state but the model trains with SGD/],
      [wider, /optimizer slot [mv] of a variable of \d+ values has \d+ values/],
    ];
    for (const [model, pattern] of cases) {
      const reference = weightValues(model);
      const error = await loadCheckpoint(model, bytes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect((error as Error).message).toMatch(pattern);
      expect(weightValues(model)).toEqual(reference);
    }
    for (const m of [adam, sgd, wider]) disposeModel(m);
  });

  it("passes the coordinator's tfjs-free verifier with the member's parameter count (@chorus/protocol)", async () => {
    for (const cfg of [
      { name: 'mlp' as const, width: 100 },
      { name: 'small-cnn' as const, width: 8 },
      { name: 'fashion-dnn' as const, width: 64 },
      { name: 'mlp' as const, modelFile: CNN_FILE },
    ]) {
      const model = buildModel({ ...cfg, ...small, seed: 3 });
      await trainOnBatches({ model, data, batches: batches.slice(0, 1) });
      const params = countMemberParams({ model: cfg.name, ...small, ...cfg });
      for (const bytes of [await saveCheckpoint(model), await saveCheckpoint(model, { optimizer: false })]) {
        expect(verifyCheckpointBytes(bytes, params)).toBe(params);
        expect(() => verifyCheckpointBytes(bytes, params + 1)).toThrow(/hold \d+ parameters/);
        const flipped = bytes.slice();
        flipped[bytes.length - 3] = (flipped[bytes.length - 3] as number) ^ 1;
        expect(() => verifyCheckpointBytes(flipped, params)).toThrow(/fails its checksum/);
      }
      expect(verifyCheckpointBytes(await saveWeights(model), params)).toBe(params);
      disposeModel(model);
    }
  });
});
