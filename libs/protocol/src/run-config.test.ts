import { describe, expect, it } from 'vitest';
import { DATASET_NAMES, isDatasetName, overridesFor, parseRunConfig, RunConfigError } from './run-config';

describe('parseRunConfig', () => {
  it('fills the defaults of chorus train', () => {
    const cfg = parseRunConfig({});
    expect(cfg).toMatchObject({
      dataset: 'mnist',
      model: 'mlp',
      members: 5,
      sharding: 'round-robin',
      epochs: 2,
      batchSize: 64,
      seed: 1,
      validationFraction: 0.1,
      memberOverrides: [],
    });
  });

  it('accepts a full config and returns per-member overrides', () => {
    const cfg = parseRunConfig({
      dataset: 'fashion-mnist',
      model: 'fashion-dnn',
      members: 3,
      sharding: 'bootstrap',
      epochs: 10,
      batchSize: 100,
      seed: 7,
      trainLimit: 5000,
      validationFraction: 0.2,
      learningRate: 0.001,
      optimizer: 'adam',
      memberOverrides: [{ member: 2, dropout: 0.5, activation: 'sigmoid' }],
    });
    expect(overridesFor(cfg, 2)).toEqual({ dropout: 0.5, activation: 'sigmoid' });
    expect(overridesFor(cfg, 0)).toEqual({});
  });

  it('lists every problem with its path', () => {
    let error: unknown;
    try {
      parseRunConfig({ dataset: 'cifar', members: 0, batchSize: 1.5, bogus: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunConfigError);
    const message = (error as Error).message;
    expect(message).toContain('dataset:');
    expect(message).toContain('members:');
    expect(message).toContain('batchSize:');
    expect(message).toMatch(/bogus/);
  });

  it('names the key an unknown one most likely means, here and in the issues the coordinator answers', () => {
    let error: unknown;
    try {
      parseRunConfig({ epoch: 3, batch_size: 32, colour: 'red', memberOverrides: [{ member: 0, drop_out: 0.2 }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunConfigError);
    const { message, issues } = error as RunConfigError;
    expect(message).toContain('(config): unknown key "epoch" (did you mean "epochs"?)');
    expect(message).toContain('(config): unknown key "batch_size" (did you mean "batchSize"?)');
    expect(message).toMatch(/^\(config\): unknown key "colour"$/m);
    expect(message).toContain('memberOverrides.0: unknown key "drop_out" (did you mean "dropout"?)');
    expect(issues.map((i) => i.message)).toContain('unknown key "epoch" (did you mean "epochs"?)');
  });

  it('rejects overrides of members that do not exist or appear twice', () => {
    expect(() => parseRunConfig({ members: 2, memberOverrides: [{ member: 2, seed: 1 }] })).toThrow(
      /memberOverrides\.0\.member: member 2 does not exist/,
    );
    expect(() =>
      parseRunConfig({ members: 3, memberOverrides: [{ member: 1 }, { member: 1, seed: 3 }] }),
    ).toThrow(/more than one override/);
  });

  it('rejects a validation fraction that leaves nothing to train on', () => {
    expect(() => parseRunConfig({ validationFraction: 0 })).toThrow(/validationFraction/);
    expect(() => parseRunConfig({ validationFraction: 0.9 })).toThrow(/validationFraction/);
  });
});

describe('isDatasetName', () => {
  it('is true for the built-in datasets only', () => {
    for (const name of DATASET_NAMES) expect(isDatasetName(name)).toBe(true);
    for (const name of ['csv', 'npy', 'images', 'MNIST', '', 'my-data'])
      expect(isDatasetName(name)).toBe(false);
  });
});
