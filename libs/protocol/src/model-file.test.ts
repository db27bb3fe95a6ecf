import { describe, expect, it } from 'vitest';
import { ModelFileSchema, summarizeModelFile, type ModelFile } from './model-file';
import { memberModelSpec } from './member-model';
import { memberSizes } from './model-size';
import { parseRunConfig, RunConfigError } from './run-config';

const FILE: ModelFile = {
  fileName: 'net.json',
  name: 'net',
  inputShape: [64],
  layers: [
    { kind: 'reshape', name: 'img', targetShape: [8, -1, 1] },
    {
      kind: 'conv2d',
      name: 'c',
      filters: 2,
      kernelSize: 3,
      padding: 'valid',
      activation: 'relu',
      init: 'heNormal',
    },
    { kind: 'batchNorm', name: 'bn', momentum: 0.99, epsilon: 0.001 },
    { kind: 'avgPool', name: 'p', poolSize: 2, strides: 2, padding: 'same' },
    { kind: 'flatten', name: 'f' },
    { kind: 'dropout', name: 'd', rate: 0.5 },
    { kind: 'dense', name: 'logits', units: 10, activation: 'linear', init: 'glorotUniform' },
    { kind: 'activation', name: 'probs', activation: 'softmax' },
  ],
};

describe('ModelFile', () => {
  it('sizes each layer as Keras does: shapes and parameters by hand', () => {
    const s = summarizeModelFile(FILE, [8, 8, 1], 10);
    expect(s.flattensInput).toBe(true);
    expect(s.rows.map((r) => [r.name, r.outputShape, r.params])).toEqual([
      ['(input)', [64], 0],
      ['img', [8, 8, 1], 0],
      ['c', [6, 6, 2], 3 * 3 * 1 * 2 + 2],
      ['bn', [6, 6, 2], 4 * 2],
      ['p', [3, 3, 2], 0],
      ['f', [18], 0],
      ['d', [18], 0],
      ['logits', [10], 18 * 10 + 10],
      ['probs', [10], 0],
    ]);
    expect(s.params).toBe(20 + 8 + 190);
    expect(s.trainableParams).toBe(20 + 4 + 190);
  });

  it('is stored in the run config and survives being parsed again (what the coordinator stores)', () => {
    const once = parseRunConfig({
      dataset: 'digits',
      members: 2,
      modelFile: FILE,
      memberOverrides: [{ member: 1, dropout: 0.2 }],
    });
    expect(parseRunConfig(JSON.parse(JSON.stringify(once)))).toEqual(once);
    expect(memberModelSpec(once, 1)).toMatchObject({ modelFile: FILE, dropout: 0.2 });
    expect(memberSizes(once, { inputShape: [8, 8, 1], numClasses: 10 }).map((m) => m.params)).toEqual([
      218, 218,
    ]);
  });

  it('refuses duplicate names, softmax before the end, an output that is not over classes', () => {
    const issues = (file: unknown) => {
      const r = ModelFileSchema.safeParse(file);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const [first, ...rest] = FILE.layers;
    expect(issues({ ...FILE, layers: [first, { ...first, name: 'img' }, ...rest] })).toContain(
      'layers.1.name: layer name "img" is used twice',
    );
    expect(
      issues({ ...FILE, layers: [{ ...FILE.layers[6], activation: 'softmax' }, ...FILE.layers] }),
    ).toContain(
      "layers.0.activation: layer 0 'logits' (Dense): softmax is only supported as the output (the last layer)",
    );
    expect(issues({ ...FILE, layers: FILE.layers.slice(0, 5) })[0]).toMatch(
      /^layers: layer 4 'f' \(Flatten\) cannot be the output/,
    );
    expect(issues({ ...FILE, layers: [{ kind: 'lstm', name: 'x' }] })[0]).toMatch(/^layers.0.kind: /);
  });

  it('refuses width and activation overrides, and dropout where the file has none', () => {
    const noDropout = { ...FILE, layers: FILE.layers.filter((l) => l.kind !== 'dropout') };
    const attempt = (cfg: unknown) => {
      try {
        parseRunConfig(cfg);
        return '';
      } catch (e) {
        expect(e).toBeInstanceOf(RunConfigError);
        return (e as Error).message;
      }
    };
    expect(
      attempt({
        members: 2,
        modelFile: noDropout,
        memberOverrides: [{ member: 0, activation: 'tanh', dropout: 0.1 }],
      }),
    ).toBe(
      'invalid run config:\n' +
        'memberOverrides.0.activation: not available with a model file: its layers are built as net.json gives them\n' +
        'memberOverrides.0.dropout: net.json has no Dropout layer whose rate it could replace',
    );
  });
});
