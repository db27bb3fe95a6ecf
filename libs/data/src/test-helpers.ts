// Helpers shared by this lib's tests (not exported from index.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** IDX bytes: magic 0 0 type ndims, big-endian dims, then data. */
export function makeIdx(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(Uint8Array.from(data), header.length);
  return out;
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'chorus-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Sign-Language-MNIST CSV text with the Kaggle header; each row is [label, ...784 pixels]. */
export function signCsv(rows: number[][]): string {
  const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)].join(',');
  return [header, ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** A sign row whose pixels are (seed + i) mod 256. */
export function signRow(label: number, seed: number): number[] {
  return [label, ...Array.from({ length: 784 }, (_, i) => (seed + i) % 256)];
}

/**
 * Writes an image file with sharp (format from the name: .png, .jpg); pixel (row, col, channel) →
 * 0…255. Parent folders are created.
 */
export async function writeImage(
  path: string,
  size: { height: number; width: number; channels: 1 | 3 | 4 },
  pixel: (r: number, c: number, k: number) => number,
): Promise<void> {
  const { default: sharp } = await import('sharp');
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { height, width, channels } = size;
  const data = Buffer.alloc(height * width * channels);
  for (let r = 0; r < height; r++)
    for (let c = 0; c < width; c++)
      for (let k = 0; k < channels; k++) data[(r * width + c) * channels + k] = pixel(r, c, k);
  await mkdir(dirname(path), { recursive: true });
  const image = sharp(data, { raw: { width, height, channels } });
  // sharp writes sRGB unless told: a 1-channel source stays a grayscale file.
  await (channels === 1 ? image.toColourspace('b-w') : image).toFile(path);
}
