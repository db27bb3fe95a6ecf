import { stat } from 'node:fs/promises';
import type { Preprocess } from '@chorus/protocol';
import { streamBinaryRows } from './binary-rows';
import { streamCsvRows } from './csv-rows';
import { imageFilesOf, isImagePath, streamImageRows } from './image-rows';
import { formatOf } from './read-inputs';

/** `n` raw input rows (n × features values), their CSV labels, and for images the file names. */
export interface InputBatch {
  x: Float32Array;
  n: number;
  labels?: Int32Array;
  names?: string[];
}

/**
 * The rows of `chorus predict --input`, read from the start each time `batches` is called, at most
 * `batchSize` rows at a time: memory is bounded by the batch, not the file (a CSV is read line by
 * line, IDX and .npy a slice of fixed-size rows at a time, images one file at a time).
 */
export interface InputSource {
  batches(batchSize: number): AsyncGenerator<InputBatch>;
}

export interface InputDataset {
  inputShape: number[];
  preprocess: Preprocess;
}

/**
 * An input file (CSV, .npy, IDX, or a PNG/JPEG image) or a folder of images: README
 * "Take the ensemble away".
 */
export async function openInputs(
  path: string,
  dataset: InputDataset,
  options: { invert: boolean },
): Promise<InputSource> {
  const features = dataset.inputShape.reduce((a, b) => a * b, 1);
  const takes = `this ensemble takes ${features} values a row (shape [${dataset.inputShape.join(', ')}])`;
  const isFolder = await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isFolder || isImagePath(path)) {
    const files = isFolder ? await imageFilesOf(path) : [path];
    return { batches: (size) => streamImageRows(files, dataset, { ...options, batchSize: size }) };
  }
  const format = formatOf(path);
  if (format === 'csv') return { batches: (size) => streamCsvRows(path, features, takes, size) };
  return { batches: (size) => streamBinaryRows(path, format, features, takes, size) };
}
