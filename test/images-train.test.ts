import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResultSchema } from '@chorus/protocol';
import { within } from './support/eventually';
import { writePatternFolder } from './support/image-folder';
import { ChorusProcess } from './support/processes';

/**
 * `chorus train --dataset images` (README "Your own data", images) on a folder of generated PNGs:
 * three classes of 12 × 12 grayscale patterns (horizontal stripes, vertical stripes, a
 * checkerboard; random phase and noise), 40 images each. A small convnet learns them far above
 * chance (1/3); lenet5 on the images resized to 6 × 6 (too small for its layers) is refused before training.
 */

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-images-e2e-'));
  await writePatternFolder(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function chorus(args: string[]) {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, {});
  const exit = await within(proc.exited, 240_000, `chorus ${args.join(' ')} ends`);
  return { code: exit.code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

describe('chorus train --dataset images', () => {
  it('trains a convnet on a generated image folder to well above chance', async () => {
    const out = await chorus([
      'train', '--dataset', 'images', '--dataset-path', dir, '--model', 'small-cnn',
      '--members', '1', '--epochs', '6', '--batch-size', '16', '--seed', '2', '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('1 × small-cnn on images (86 train / 10 validation / 24 test');
    // The defaults it chose, said: the common size, 1 channel as every file is grayscale, sorted folder names.
    expect(out.stderr).toContain(
      `dataset: ${dir} (120 images, 12×12 as found, 1 channel (all grayscale), classes = folder names sorted: checker, horizontal, vertical;`,
    );
    const result = RunResultSchema.parse(JSON.parse(out.stdout.trim().split('\n').pop() ?? ''));
    expect(result.classes?.names).toEqual(['checker', 'horizontal', 'vertical']);
    expect(result.members[0]?.testAccuracy).toBeGreaterThanOrEqual(0.8);
  });

  it('refuses a model that cannot take the images (resized to 6 × 6) before training', async () => {
    const out = await chorus([
      'train', '--dataset', 'images', '--dataset-path', dir, '--image-size', '6x6', '--model', 'lenet5',
      '--members', '1', '--epochs', '1', '--batch-size', '16',
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(`${dir}: lenet5: input [6,6,1] is too small`);
    expect(out.stderr).not.toContain('member 0:');
  });
});
