/**
 * The initial weights of a model file: a TF.js `model.json`'s weights manifest and the shard files
 * beside it, read, checked and turned into a Chorus weights container (weights.ts), which the run
 * config names by its sha256 (`ModelFile.weights`) and every member is loaded with after it is built.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { weightsMismatch, type ModelFile, type ModelFileWeights } from '@chorus/protocol';
import { ModelError } from '../errors';
import { encodeWeights, inspectWeights, loadWeights, type WeightTensor } from '../weights';
import { isObject, type Json } from './keras-graph';

export interface FileWeights {
  /** The weights container every member is loaded from. */
  bytes: Uint8Array;
  /** What the run config records of it. */
  weights: ModelFileWeights;
  /** The shard files read, in manifest order. */
  shards: string[];
}

const refuse = (message: string) => new ModelError('weights-mismatch', message);
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface ManifestWeight {
  name: string;
  shape: number[];
}

/** One `weightsManifest` group, checked: shard paths and float32 weights. */
function groupOf(jsonPath: string, group: Json, g: number): { paths: string[]; weights: ManifestWeight[] } {
  const where = `${jsonPath}: weightsManifest[${g}]`;
  if (!isObject(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
    throw refuse(`${where} must be { paths: [shard files], weights: [{ name, shape, dtype }] }`);
  }
  const paths = group['paths'].map((p, k) => {
    // Shards sit beside model.json: a path may not leave its directory.
    if (typeof p !== 'string' || p === '' || isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
      throw refuse(`${where}.paths[${k}] ${JSON.stringify(p)} is not a file name beside model.json`);
    }
    return p;
  });
  const weights = group['weights'].map((w, k) => {
    const at = `${where}.weights[${k}]`;
    if (!isObject(w) || typeof w['name'] !== 'string' || !Array.isArray(w['shape'])) {
      throw refuse(`${at} must be { name, shape, dtype }`);
    }
    const shape = w['shape'];
    if (!shape.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      throw refuse(`${at} "${w['name']}": shape ${JSON.stringify(shape)} is not a list of sizes`);
    }
    if (w['quantization'] !== undefined && w['quantization'] !== null) {
      const q = isObject(w['quantization']) ? String(w['quantization']['dtype']) : '?';
      throw refuse(
        `${at} "${w['name']}" is quantized (${q}): Chorus starts from float32 weights only (save or convert them unquantized)`,
      );
    }
    if (w['dtype'] !== 'float32') {
      throw refuse(`${at} "${w['name']}" is ${String(w['dtype'])}: a model file's weights are float32`);
    }
    return { name: w['name'], shape };
  });
  return { paths, weights };
}

/**
 * The weights of a TF.js `model.json` (`value`, read from `jsonPath`) for the converted `file`, or
 * null when it has no weights manifest (or an empty one). Each shard must be a file beside
 * model.json; the shards of a group must hold exactly the bytes of its weights, every value must be
 * finite, and the weights must be exactly those of the file's layers (names, shapes when the file
 * declares its input) — otherwise a ModelError names the file and the weight.
 */
export async function readFileWeights(
  jsonPath: string,
  value: Json,
  file: ModelFile,
): Promise<FileWeights | null> {
  if (!isObject(value) || !('modelTopology' in value)) return null;
  const manifest = value['weightsManifest'];
  if (manifest === undefined || manifest === null || (Array.isArray(manifest) && manifest.length === 0))
    return null;
  if (!Array.isArray(manifest)) throw refuse(`${jsonPath}: weightsManifest must be a list of groups`);
  const dir = dirname(jsonPath);
  const tensors: WeightTensor[] = [];
  const shards: string[] = [];
  for (const [g, raw] of manifest.entries()) {
    const group = groupOf(jsonPath, raw, g);
    const files = group.paths.map((p) => join(dir, p));
    const sizes: number[] = [];
    for (const path of files) {
      try {
        sizes.push((await stat(path)).size);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw refuse(
          `${path}: ${code === 'ENOENT' ? 'missing' : `cannot read (${code})`} (a weight shard that ${jsonPath} lists)`,
        );
      }
    }
    const needed = group.weights.reduce((n, w) => n + 4 * product(w.shape), 0);
    const held = sizes.reduce((a, b) => a + b, 0);
    if (held !== needed) {
      throw refuse(
        `${files.join(', ')}: the shard${files.length > 1 ? 's hold' : ' holds'} ${held.toLocaleString('en-US')} bytes, ` +
          `but the ${group.weights.length} float32 weights ${jsonPath} lists in weightsManifest[${g}] take ` +
          `${needed.toLocaleString('en-US')}: cut off, padded, or the shard of other weights`,
      );
    }
    const data = new Uint8Array(needed);
    let at = 0;
    for (const path of files) {
      const bytes = await readFile(path);
      if (at + bytes.length > needed) throw refuse(`${path} changed while it was read`);
      data.set(bytes, at);
      at += bytes.length;
    }
    const view = new DataView(data.buffer);
    let offset = 0;
    for (const w of group.weights) {
      const n = product(w.shape);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(offset + 4 * i, true);
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad !== -1) {
        throw refuse(
          `${files.join(', ')}: weight "${w.name}" holds ${values[bad]} (value ${bad}): the shard is damaged or not float32`,
        );
      }
      tensors.push({ name: w.name, shape: w.shape, dtype: 'float32', values });
      offset += 4 * n;
    }
    shards.push(...files);
  }
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name))
      throw refuse(`${jsonPath}: weight "${t.name}" is listed twice in its weightsManifest`);
    names.add(t.name);
  }
  // With a declared input the shapes are checked now; else the names, and the shapes with the dataset.
  const misfit = weightsMismatch(file, tensors, `the weights of ${jsonPath}`);
  if (misfit !== null) throw refuse(misfit);
  const bytes = encodeWeights(tensors);
  return {
    bytes,
    weights: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      tensors: tensors.length,
    },
    shards,
  };
}

/**
 * Loads a model file's initial weights into a member just built from it (`buildModel`): `bytes`
 * must be the container the run config names (`file.weights.sha256`) and hold exactly the model's
 * weights. A member resumed from a checkpoint is not started this way: its checkpoint holds its weights.
 */
export async function startFromFileWeights(
  model: tfl.LayersModel,
  file: ModelFile,
  bytes: Uint8Array,
): Promise<void> {
  const expected = file.weights;
  if (expected === undefined)
    throw refuse(`model file ${file.fileName} has no initial weights to start from`);
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== expected.sha256) {
    throw refuse(
      `the initial weights of ${file.fileName} should have sha256 ${expected.sha256}, these ${bytes.length} bytes have ${got}`,
    );
  }
  const inputShape = model.inputs[0]?.shape.slice(1) as number[] | undefined;
  const misfit = fileWeightsMismatch(file, bytes, inputShape);
  if (misfit !== null) throw refuse(misfit);
  try {
    await loadWeights(model, bytes);
  } catch (error) {
    throw refuse(
      `the initial weights of ${file.fileName} (${expected.sha256.slice(0, 12)}…) do not fit the model: ${(error as Error).message}`,
    );
  }
}

/**
 * Why the weights container `bytes` is not exactly the weights of `file`'s layers on samples of
 * `inputShape` (weightsMismatch, libs/protocol), or null.
 */
export function fileWeightsMismatch(
  file: ModelFile,
  bytes: Uint8Array,
  inputShape?: readonly number[],
): string | null {
  const sha = file.weights?.sha256.slice(0, 12) ?? 'unnamed';
  return weightsMismatch(
    file,
    inspectWeights(bytes),
    `the initial weights ${sha}… of ${file.fileName}`,
    inputShape,
  );
}
