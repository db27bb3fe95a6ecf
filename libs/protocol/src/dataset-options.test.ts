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
      'invalid run config:\ndatasetOptions: only for a dataset of your own files (csv, npy, images), not mnist',
    );
    expect(message({ dataset: 'npy', datasetPath: '/d', datasetOptions: { labelColumn: 0 } })).toBe(
      'invalid run config:\ndatasetOptions.labelColumn: only for csv (a npy dataset brings its own labels)',
    );
    expect(message({ dataset: 'csv', datasetPath: '/a', datasetOptions: { testPath: '/b', testFraction: 0.1 } })).toBe(
      'invalid run config:\ndatasetOptions.testFraction: give either testPath or testFraction, not both',
    );
    expect(message({ dataset: 'csv', datasetPath: '/a', datasetOptions: { normalise: 'none' } })).toBe(
      'invalid run config:\ndatasetOptions: unknown key "normalise" (did you mean "normalize"?)',
    );
    expect(message({ dataset: 'csv', datasetBundle: 'abc' })).toMatch(/datasetBundle: must be a sha256 hex digest/);
  });

  it('accepts images with imageSize, channels and testFraction, and refuses what only images take', () => {
    const cfg = parseRunConfig({
      dataset: 'images',
      datasetPath: '/data/pets',
      datasetOptions: { imageSize: [32, 48], channels: 3, testFraction: 0.3 },
    });
    expect(cfg.datasetOptions).toEqual({ imageSize: [32, 48], channels: 3, testFraction: 0.3 });
    expect(message({ dataset: 'csv', datasetPath: '/a', datasetOptions: { channels: 1 } })).toBe(
      'invalid run config:\ndatasetOptions.channels: only for images, not csv',
    );
    expect(message({ dataset: 'npy', datasetPath: '/d', datasetOptions: { testFraction: 0.2 } })).toBe(
      'invalid run config:\ndatasetOptions.testFraction: only for csv and images (an npy dataset brings its own test split)',
    );
    expect(message({ dataset: 'images', datasetPath: '/d', datasetOptions: { normalize: 'standard' } })).toBe(
      'invalid run config:\ndatasetOptions.normalize: images are scaled to [0, 1] (/255) and not normalised: leave normalize out',
    );
    expect(message({ dataset: 'images', datasetPath: '/d', datasetOptions: { labelColumn: 1 } })).toBe(
      'invalid run config:\ndatasetOptions.labelColumn: only for csv (a images dataset brings its own labels)',
    );
    expect(message({ dataset: 'images', datasetPath: '/d', datasetOptions: { channels: 2 } })).toMatch(/datasetOptions\.channels/);
    expect(message({ dataset: 'images', datasetPath: '/d', datasetOptions: { imageSize: [0, 5] } })).toMatch(/datasetOptions\.imageSize/);
    expect(message({ dataset: 'images', datasetPath: '/d', datasetOptions: { imageSize: [5000, 5] } })).toMatch(/datasetOptions\.imageSize/);
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
    // An image folder's shape: h × w × c from the files.
    expect(modelInputRefusal('small-cnn', [32, 48, 3], '/data/pets')).toBeNull();
    expect(modelInputRefusal('lenet5', [6, 6, 3], '/data/pets')).toMatch(/^\/data\/pets: lenet5: input \[6,6,3\] is too small/);
  });
});
