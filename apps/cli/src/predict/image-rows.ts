import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ChorusError } from '@chorus/protocol';
import { imageToRow } from '../image-row';
import type { InputBatch, InputDataset } from './input-source';

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/** Every PNG/JPEG file in a folder (not its subfolders), sorted by name. */
export async function imageFilesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile() && isImagePath(e.name))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) {
    throw new ChorusError('invalid-input', `${dir} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
  }
  return names.map((name) => join(dir, name));
}

/** The images as raw rows (image-row.ts), `batchSize` files at a time, each row named by its file. */
export async function* streamImageRows(
  files: string[],
  dataset: InputDataset,
  options: { invert: boolean; batchSize: number },
): AsyncGenerator<InputBatch> {
  const features = dataset.inputShape.reduce((a, b) => a * b, 1);
  for (let first = 0; first < files.length; first += options.batchSize) {
    const chunk = files.slice(first, first + options.batchSize);
    const x = new Float32Array(chunk.length * features);
    for (const [i, file] of chunk.entries()) {
      const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new ChorusError('invalid-input', `${file}: cannot read (${error.code ?? error.message})`);
      });
      x.set(await imageToRow(bytes, dataset, { invert: options.invert, source: file }), i * features);
    }
    yield { x, n: chunk.length, names: chunk.map((f) => basename(f)) };
  }
}
