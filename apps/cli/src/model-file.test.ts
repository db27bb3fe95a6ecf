import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResultSchema } from '@chorus/protocol';
import { checkMemberParams, runConfigFromFlags, type RunConfigFlags } from './run-config-options';

const CLI = fileURLToPath(new URL('../../../bin/chorus.mjs', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../docs/model-files/', import.meta.url));

function chorus(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// A Keras 2.13 `model.to_json()` of a small convnet for the synthetic dataset (8×8×1, 4 classes).
const dense = (name: string, units: number, activation: string) => ({
  class_name: 'Dense',
  config: {
    name,
    trainable: true,
    dtype: 'float32',
    units,
    activation,
    use_bias: true,
    kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  },
});
const SYNTHETIC_CNN = {
  class_name: 'Sequential',
  config: {
    name: 'synthetic_cnn',
    layers: [
      {
        class_name: 'InputLayer',
        config: {
          batch_input_shape: [null, 8, 8, 1],
          dtype: 'float32',
          sparse: false,
          ragged: false,
          name: 'input_1',
        },
      },
      {
        class_name: 'Conv2D',
        config: {
          name: 'conv2d',
          trainable: true,
          dtype: 'float32',
          filters: 8,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: 'same',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          groups: 1,
          activation: 'relu',
          use_bias: true,
          kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
          bias_initializer: { class_name: 'Zeros', config: {} },
          kernel_regularizer: null,
          bias_regularizer: null,
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
        },
      },
      {
        class_name: 'MaxPooling2D',
        config: {
          name: 'max_pooling2d',
          trainable: true,
          dtype: 'float32',
          pool_size: [2, 2],
          padding: 'valid',
          strides: [2, 2],
          data_format: 'channels_last',
        },
      },
      {
        class_name: 'Flatten',
        config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' },
      },
      {
        class_name: 'Dropout',
        config: {
          name: 'dropout',
          trainable: true,
          dtype: 'float32',
          rate: 0.1,
          noise_shape: null,
          seed: null,
        },
      },
      dense('dense', 4, 'softmax'),
    ],
  },
  keras_version: '2.13.1',
  backend: 'tensorflow',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-model-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** What `chorus train|run` says about a config before anything starts (the same two calls). */
async function refusal(flags: RunConfigFlags): Promise<string> {
  try {
    checkMemberParams(await runConfigFromFlags(flags, () => undefined), flags);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('--model-file', () => {
  it('stores the converted file in the run config; notes go to the log', async () => {
    const notes: string[] = [];
    const path = await fileWith('model.json', {
      format: 'layers-model',
      modelTopology: SYNTHETIC_CNN,
      weightsManifest: [],
    });
    const cfg = await runConfigFromFlags({ modelFile: path, dataset: 'synthetic' }, (l) => notes.push(l));
    expect(cfg.modelFile?.fileName).toBe('model.json');
    expect(cfg.modelFile?.layers.map((l) => l.kind)).toEqual([
      'conv2d',
      'maxPool',
      'flatten',
      'dropout',
      'dense',
    ]);
    // An empty weights manifest: members start from their own seeded weights, nothing to say.
    expect(cfg.modelFile?.weights).toBeUndefined();
    expect(notes).toEqual([]);
  });

  it('refuses, naming the file and the entry: not JSON', async () => {
    const path = await fileWith('broken.json', '{"class_name": "Sequential",\n  "config": {"layers": [}\n}');
    const message = await refusal({ modelFile: path });
    expect(message).toMatch(new RegExp(`^--model-file ${path} is not valid JSON: Unexpected token '}'`));
    expect(message).toMatch(/ at line 2, column 25$/);
  });

  it('refuses an unknown layer', async () => {
    const lstm = structuredClone(SYNTHETIC_CNN);
    lstm.config.layers.splice(3, 0, { class_name: 'LSTM', config: { name: 'lstm' } } as never);
    const path = await fileWith('lstm.json', lstm);
    expect(await refusal({ modelFile: path, dataset: 'synthetic' })).toMatch(
      /^model file lstm\.json: layers\[3\] 'lstm' \(LSTM\): Chorus cannot build this layer; it builds InputLayer, Dense/,
    );
  });

  it('refuses an input shape that does not fit the dataset', async () => {
    const path = await fileWith('cnn.json', SYNTHETIC_CNN);
    expect(await refusal({ modelFile: path, dataset: 'mnist' })).toBe(
      "model file cnn.json: its input shape [8, 8, 1] does not fit the dataset's samples [28, 28, 1] (the mnist dataset)",
    );
  });

  it('refuses a class count that does not fit', async () => {
    const path = await fileWith('cnn.json', SYNTHETIC_CNN);
    expect(await refusal({ modelFile: path, dataset: 'digits' })).toBe(
      "model file cnn.json: layer 4 'dense' (Dense) has 4 units, the output over the classes; the dataset has 10 classes (the digits dataset)",
    );
  });

  it('refuses a model over the parameter cap before anything starts', async () => {
    const path = await fileWith('cnn.json', SYNTHETIC_CNN);
    // conv 3·3·1·8+8 = 80, dense (4·4·8)·4+4 = 516
    expect(await refusal({ modelFile: path, dataset: 'synthetic', maxMemberParams: '595' })).toBe(
      'model file cnn.json has 596 parameters per member: over the limit of 595 parameters per member (--max-member-params)',
    );
    const cfg = await runConfigFromFlags({ modelFile: path, dataset: 'synthetic' }, () => undefined);
    expect(() => checkMemberParams(cfg, { maxMemberParams: '596' })).not.toThrow();
  });

  it('refuses a functional graph with branches', async () => {
    const node = (from: string[]) => [from.map((f) => [f, 0, 0, {}])];
    const graph = {
      class_name: 'Functional',
      config: {
        name: 'two_towers',
        layers: [
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { name: 'x', batch_input_shape: [null, 8, 8, 1] },
            inbound_nodes: [],
          },
          { class_name: 'Flatten', name: 'flat', config: { name: 'flat' }, inbound_nodes: node(['x']) },
          { ...dense('left', 4, 'softmax'), name: 'left', inbound_nodes: node(['flat']) },
          { ...dense('right', 4, 'softmax'), name: 'right', inbound_nodes: node(['flat']) },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [
          ['left', 0, 0],
          ['right', 0, 0],
        ],
      },
    };
    const path = await fileWith('towers.json', graph);
    expect(await refusal({ modelFile: path, dataset: 'synthetic' })).toBe(
      'model file towers.json: a functional model with 1 inputs and 2 outputs: Chorus builds models with one input and one output only',
    );
    graph.config.output_layers = [['left', 0, 0]];
    await writeFile(path, JSON.stringify(graph));
    expect(await refusal({ modelFile: path, dataset: 'synthetic' })).toBe(
      "model file towers.json: layers[1] 'flat' (Flatten) feeds 2 layers ('left', 'right'): the graph branches; " +
        'Chorus builds a functional model only when it is a simple chain',
    );
  });

  it('refuses width and activation overrides, and --model beside it', async () => {
    const path = await fileWith('cnn.json', SYNTHETIC_CNN);
    const config = await fileWith('run.json', {
      members: 2,
      memberOverrides: [{ member: 1, width: 8, dropout: 0.3 }],
    });
    expect(await refusal({ modelFile: path, config, dataset: 'synthetic' })).toBe(
      'invalid run config:\nmemberOverrides.0.width: not available with a model file: its layers are built as cnn.json gives them',
    );
    expect(await refusal({ modelFile: path, model: 'lenet5' })).toMatch(
      /model: give either a built-in model or a model file, not both \(model lenet5, modelFile cnn\.json\)/,
    );
  });
});

describe('the chorus CLI with a model file', () => {
  it('`chorus models --file` prints the Keras summary of a file', async () => {
    const r = await chorus([
      'models',
      '--file',
      join(EXAMPLES, 'digits-cnn.keras3.json'),
      '--dataset',
      'digits',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('Model file digits-cnn.keras3.json ("digits_cnn"): input (8, 8, 1), 10 classes');
    expect(lines[2]).toMatch(/^conv2d \(Conv2D\) +\(8, 8, 16\) +160$/);
    expect(lines.slice(-3)).toEqual([
      'Total params: 8,778',
      'Trainable params: 8,746',
      'Non-trainable params: 32',
    ]);
  }, 60_000);

  it('`chorus train --model-file` trains the file on synthetic data well above chance', async () => {
    const path = await fileWith('synthetic-cnn.json', SYNTHETIC_CNN);
    const r = await chorus([
      'train',
      ...['--model-file', path, '--dataset', 'synthetic', '--members', '2', '--epochs', '3'],
      ...['--batch-size', '16', '--train-limit', '600', '--sharding', 'full', '--learning-rate', '0.01'],
      ...['--backend', 'wasm', '--json'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/chorus train: 2 × synthetic-cnn\.json on synthetic/);
    const result = RunResultSchema.parse(JSON.parse(r.stdout.trim().split('\n').pop() ?? ''));
    // Chance is 1/4 on the 4 synthetic classes (these members reach ≈0.81).
    for (const member of result.members) expect(member.testAccuracy).toBeGreaterThan(0.65);
  }, 240_000);
});
