import { describe, expect, it } from 'vitest';
import { modelInputRefusal } from './model-size';
import { parseRunConfig } from './run-config';

const SHA = 'a'.repeat(64);
const message = (input: unknown): string => {
  try {
    parseRunConfig(input);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('run config fields of a dataset of your own files', () => {
  it('accepts csv with its options, and npy or an uploaded bundle', () => {
    const cfg = parseRunConfig({
      dataset: 'csv',
      datasetPath: '/data/iris.csv',
      datasetOptions: { labelColumn: 'species', testFraction: 0.25, normalize: 'minmax' },
    });
    expect(cfg.datasetOptions).toEqual({ labelColumn: 'species', testFraction: 0.25, normalize: 'minmax' });
    expect(parseRunConfig({ dataset: 'npy', datasetPath: '/d' }).dataset).toBe('npy');
    expect(parseRunConfig({ dataset: 'csv', datasetBundle: SHA, datasetOptions: { labelColumn: 2 } }).datasetBundle).toBe(SHA);
  });

  it('refuses what cannot work, naming the field', () => {
    expect(message({ dataset: 'csv' })).toBe(
      'invalid run config:\ndatasetPath: a csv dataset needs datasetPath (the file or directory) or datasetBundle (an uploaded bundle)',
    );
    expect(message({ dataset: 'csv', datasetPath: '/a', datasetBundle: SHA })).toBe(
      'invalid run config:\ndatasetBundle: give either datasetPath or datasetBundle, not both',
    );
    expect(message({ dataset: 'mnist', datasetOptions: { normalize: 'none' } })).toBe(
      'invalid run config:\ndatasetOptions: only for a dataset of your own files (csv, npy), not mnist',
    );
    expect(message({ dataset: 'npy', datasetPath: '/d', datasetOptions: { labelColumn: 0 } })).toBe(
      'invalid run config:\ndatasetOptions.labelColumn: only for csv (a npy dataset brings its own test split and labels)',
    );
    expect(message({ dataset: 'csv', datasetPath: '/a', datasetOptions: { testPath: '/b', testFraction: 0.1 } })).toBe(
      'invalid run config:\ndatasetOptions.testFraction: give either testPath or testFraction, not both',
    );
    expect(message({ dataset: 'csv', datasetPath: '/a', datasetOptions: { normalise: 'none' } })).toBe(
      'invalid run config:\ndatasetOptions: unknown key "normalise" (did you mean "normalize"?)',
    );
    expect(message({ dataset: 'csv', datasetBundle: 'abc' })).toMatch(/datasetBundle: must be a sha256 hex digest/);
  });
});

describe('modelInputRefusal', () => {
  it('refuses a convnet on flat features and lets dense models take them', () => {
    expect(modelInputRefusal('small-cnn', [50], 'data.csv')).toBe(
      'small-cnn is a convolutional network and needs images [height, width, channels], but data.csv holds ' +
        'samples of shape [50] (a flat feature vector): use a dense model (mlp, fashion-dnn, fashion-small)',
    );
    expect(modelInputRefusal('mlp', [50], 'data.csv')).toBeNull();
    expect(modelInputRefusal('lenet5', [28, 28, 1], 'x')).toBeNull();
    expect(modelInputRefusal('lenet5', [4, 4, 1], 'x')).toMatch(/^x: lenet5: input \[4,4,1\] is too small/);
  });
});
