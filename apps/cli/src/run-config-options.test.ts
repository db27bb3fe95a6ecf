import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkMemberParams, runConfigFromFlags } from './run-config-options';

const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dataset flags of chorus train and chorus run', () => {
  it('put --label-column, --test-fraction and --normalize into datasetOptions (an index when a whole number)', async () => {
    const cfg = await runConfigFromFlags({
      dataset: 'csv',
      datasetPath: 'a.csv',
      labelColumn: '3',
      testFraction: '0.25',
      normalize: 'minmax',
    });
    expect(cfg.datasetOptions).toEqual({ labelColumn: 3, testFraction: 0.25, normalize: 'minmax' });
    const named = await runConfigFromFlags({ dataset: 'csv', datasetPath: 'a.csv', labelColumn: 'species' });
    expect(named.datasetOptions).toEqual({ labelColumn: 'species' });
  });

  it("override --config's datasetOptions key by key", async () => {
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ dataset: 'csv', datasetPath: 'a.csv', datasetOptions: { labelColumn: 0, normalize: 'none' } }));
    const cfg = await runConfigFromFlags({ config: file, testPath: 'b.csv' });
    expect(cfg.datasetOptions).toEqual({ labelColumn: 0, normalize: 'none', testPath: 'b.csv' });
  });

  it('refuse a test fraction that is no number, and a convnet once the shape is known', async () => {
    await expect(runConfigFromFlags({ dataset: 'csv', datasetPath: 'a.csv', testFraction: 'a fifth' })).rejects.toThrow(
      '--test-fraction must be a number, got "a fifth"',
    );
    const cfg = await runConfigFromFlags({ dataset: 'csv', datasetPath: 'a.csv', model: 'sign-cnn' });
    // Before loading: nothing to judge yet; after: the real shape.
    expect(() => checkMemberParams(cfg, {})).not.toThrow();
    expect(() => checkMemberParams(cfg, {}, { inputShape: [12], numClasses: 3 })).toThrow(
      /^sign-cnn is a convolutional network and needs images \[height, width, channels\], but a\.csv holds samples of shape \[12\]/,
    );
    expect(() => checkMemberParams({ ...cfg, model: 'fashion-dnn' }, { maxMemberParams: '1000' }, { inputShape: [12], numClasses: 3 })).toThrow(
      /over the limit of 1,000 parameters per member/,
    );
  });

  it('put --image-size HxW and --channels into datasetOptions, refusing a size that is not HxW', async () => {
    const cfg = await runConfigFromFlags({ dataset: 'images', datasetPath: 'pets', imageSize: '32x48', channels: '1', testFraction: '0.1' });
    expect(cfg.datasetOptions).toEqual({ imageSize: [32, 48], channels: 1, testFraction: 0.1 });
    await expect(runConfigFromFlags({ dataset: 'images', datasetPath: 'pets', imageSize: '32' })).rejects.toThrow(
      '--image-size must be HxW (height x width, e.g. 28x28), got "32"',
    );
    // The folder's images decide the shape: lenet5 refuses 8 × 8 before training.
    const lenet = await runConfigFromFlags({ dataset: 'images', datasetPath: 'pets', model: 'lenet5' });
    expect(() => checkMemberParams(lenet, {}, { inputShape: [8, 8, 1], numClasses: 3 })).toThrow(/^pets: lenet5: input \[8,8,1\] is too small/);
    expect(() => checkMemberParams(lenet, {}, { inputShape: [28, 28, 3], numClasses: 3 })).not.toThrow();
  });
});
