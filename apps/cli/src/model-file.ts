import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { importModelFile, type Json } from '@chorus/models';
import { ChorusError, type ModelFile, type ModelFileSummary } from '@chorus/protocol';
import { parseJsonText } from './json-text';
import { plainTable, renderTable } from './table';

/** A topology file is small (the weights, if any, are in other files): larger ones are refused unread. */
export const MAX_MODEL_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Reads `--model-file`: a Keras `to_json()`, a TF.js `toJSON()` or a TF.js `model.json`, converted
 * to the run config's `modelFile` (README "Your own model"). Problems name the file (and the line
 * and column of a JSON syntax error, or the layer entry); notes (weights not loaded, initializer
 * seeds replaced) go to `log`.
 */
export async function readModelFile(path: string, log: (line: string) => void): Promise<ModelFile> {
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
        `${MAX_MODEL_FILE_BYTES.toLocaleString('en-US')} (weights are not read from it)`,
    );
  }
  const parsed = parseJsonText(await readFile(path, 'utf8'));
  if (!parsed.ok) {
    throw new ChorusError(
      'invalid-input',
      `--model-file ${path} is not valid JSON: ${parsed.reason} at line ${parsed.line}, column ${parsed.column}`,
    );
  }
  const { modelFile, notes } = importModelFile(basename(path), parsed.value as Json);
  for (const note of notes) log(`note: ${note}`);
  return modelFile;
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
