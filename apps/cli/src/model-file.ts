import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { importModelFile, isModelError, readFileWeights, type Json } from '@chorus/models';
import { ChorusError, type ModelFile, type ModelFileSummary } from '@chorus/protocol';
import { parseJsonText } from './json-text';
import { plainTable, renderTable } from './table';

/** A topology file is small (the weights, if any, are in its shards): larger ones are refused unread. */
export const MAX_MODEL_FILE_BYTES = 8 * 1024 * 1024;

/** A model file as `--model-file` read it, and its initial weights (a weights container) if it has any. */
export interface ReadModelFile {
  modelFile: ModelFile;
  /** The container `modelFile.weights` names (libs/models file-weights.ts), or null. */
  weights: Uint8Array | null;
}

/**
 * Reads `--model-file`: a Keras `to_json()`, a TF.js `toJSON()` or a TF.js `model.json`, converted
 * to the run config's `modelFile` (README "Your own model"). A `model.json`'s weights manifest is
 * read too: its shards beside it are checked and become the weights every member starts from
 * (`modelFile.weights` records their sha256). Problems name the file (and the line and column of a
 * JSON syntax error, the layer entry, or the shard and the weight); notes (initializer seeds
 * replaced, weights read) go to `log`.
 */
export async function readModelFileWithWeights(
  path: string,
  log: (line: string) => void,
): Promise<ReadModelFile> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new ChorusError('invalid-input', `cannot read --model-file ${path}: ${(error as Error).message}`);
  }
  if (size > MAX_MODEL_FILE_BYTES) {
    throw new ChorusError(
      'invalid-input',
      `--model-file ${path} is ${size.toLocaleString('en-US')} bytes: a model topology is at most ` +
        `${MAX_MODEL_FILE_BYTES.toLocaleString('en-US')} (weights belong in the shards its weightsManifest names)`,
    );
  }
  const parsed = parseJsonText(await readFile(path, 'utf8'));
  if (!parsed.ok) {
    throw new ChorusError(
      'invalid-input',
      `--model-file ${path} is not valid JSON: ${parsed.reason} at line ${parsed.line}, column ${parsed.column}`,
    );
  }
  const value = parsed.value as Json;
  const { modelFile, notes } = importModelFile(basename(path), value);
  for (const note of notes) log(`note: ${note}`);
  let read;
  try {
    read = await readFileWeights(path, value, modelFile);
  } catch (error) {
    if (isModelError(error)) throw new ChorusError('invalid-input', `--model-file ${error.message}`);
    throw error;
  }
  if (read === null) return { modelFile, weights: null };
  log(
    `note: ${basename(path)}: every member starts from its weights (${read.weights.tensors} tensors, ` +
      `${read.weights.bytes.toLocaleString('en-US')} bytes from ${read.shards.map((s) => basename(s)).join(', ')}, ` +
      `sha256 ${read.weights.sha256.slice(0, 12)}…)`,
  );
  return { modelFile: { ...modelFile, weights: read.weights }, weights: read.bytes };
}

/** readModelFileWithWeights, the model file only (its `weights` field still names the weights). */
export async function readModelFile(path: string, log: (line: string) => void): Promise<ModelFile> {
  return (await readModelFileWithWeights(path, log)).modelFile;
}

const shapeText = (shape: readonly number[]) => `(${shape.join(', ')})`;

/** Keras' `model.summary()` of a model file: each layer's output shape and parameters, then the totals. */
export function formatModelSummary(file: ModelFile, summary: ModelFileSummary, color: boolean): string {
  const table = plainTable(['layer (type)', 'output shape', 'params'], [40, 18], color);
  for (const row of summary.rows) {
    table.push([
      `${row.name} (${row.className})`,
      shapeText(row.outputShape),
      row.params.toLocaleString('en-US'),
    ]);
  }
  const fmt = (n: number) => n.toLocaleString('en-US');
  return [
    `Model file ${file.fileName} ("${file.name}"): input ${shapeText(summary.inputShape)}` +
      (summary.flattensInput ? ` flattened to the file's (${file.inputShape?.join(', ')})` : '') +
      `, ${summary.numClasses} classes`,
    renderTable(table),
    `Total params: ${fmt(summary.params)}`,
    `Trainable params: ${fmt(summary.trainableParams)}`,
    `Non-trainable params: ${fmt(summary.params - summary.trainableParams)}`,
  ].join('\n');
}
