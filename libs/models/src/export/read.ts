import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ChorusError,
  ENSEMBLE_FORMAT,
  ENSEMBLE_FORMAT_VERSION,
  ENSEMBLE_MANIFEST_FILE,
  EnsembleManifestSchema,
  ExportPathSchema,
  formatIssues,
  type EnsembleManifest,
} from '@chorus/protocol';

/** An exported ensemble read back: its manifest and one tfjs model per member (call `dispose` when done). */
export interface LoadedEnsemble {
  dir: string;
  manifest: EnsembleManifest;
  models: tfl.LayersModel[];
  dispose(): void;
}

const refuse = (message: string) => new ChorusError('invalid-input', message);

/**
 * Reads an export directory: checks `ensemble.json` (format, version, schema), the sha256 of every
 * file it lists (a missing or changed file is refused, named), that each member's model.json and
 * shards are listed, and builds the members with tfjs' own `loadLayersModel` on the current backend
 * (call selectBackend first to choose one).
 */
export async function readEnsembleExport(dir: string): Promise<LoadedEnsemble> {
  const manifest = await readManifest(dir);
  const verified = new Map<string, Uint8Array>();
  for (const [path, expected] of Object.entries(manifest.files)) {
    const bytes = await readListed(dir, path);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== expected) {
      throw refuse(`${path} does not match its sha256 in ${ENSEMBLE_MANIFEST_FILE} (changed or corrupt)`);
    }
    verified.set(path, bytes);
  }
  const models: tfl.LayersModel[] = [];
  try {
    for (const member of manifest.members) models.push(await loadMember(member.path, verified));
  } catch (error) {
    models.forEach((m) => m.dispose());
    throw error;
  }
  return { dir, manifest, models, dispose: () => models.forEach((m) => m.dispose()) };
}

async function readManifest(dir: string): Promise<EnsembleManifest> {
  const path = join(dir, ENSEMBLE_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw refuse(`${path} not found: is ${dir} an exported ensemble (chorus train --save, chorus export)?`);
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw refuse(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const head = (json ?? {}) as { format?: unknown; version?: unknown };
  if (head.format !== ENSEMBLE_FORMAT) {
    throw refuse(`${path}: format ${JSON.stringify(head.format)} is not "${ENSEMBLE_FORMAT}"`);
  }
  if (head.version !== ENSEMBLE_FORMAT_VERSION) {
    throw refuse(
      `${path}: version ${JSON.stringify(head.version)} is not supported (this Chorus reads version ${ENSEMBLE_FORMAT_VERSION})`,
    );
  }
  const parsed = EnsembleManifestSchema.safeParse(json);
  if (!parsed.success) throw refuse(`${path} is not a valid manifest:\n${formatIssues(parsed.error)}`);
  return parsed.data;
}

async function readListed(dir: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dir, path)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw refuse(`${path} is missing from ${dir} (${ENSEMBLE_MANIFEST_FILE} lists it)`);
    }
    throw error;
  }
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** A member from its verified files: model.json, then its shards in weightsManifest order. */
async function loadMember(memberPath: string, verified: Map<string, Uint8Array>): Promise<tfl.LayersModel> {
  const jsonPath = `${memberPath}/model.json`;
  const jsonBytes = verified.get(jsonPath);
  if (jsonBytes === undefined) throw refuse(`${jsonPath} is not listed in ${ENSEMBLE_MANIFEST_FILE}'s files`);
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as Partial<ModelJson>;
  if (typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw refuse(`${jsonPath} is not a TF.js layers model (no modelTopology or weightsManifest)`);
  }
  const buffers: ArrayBuffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const shard of group.paths) {
      const path = `${memberPath}/${shard}`;
      const bytes = ExportPathSchema.safeParse(path).success ? verified.get(path) : undefined;
      if (bytes === undefined)
        throw refuse(
          `${path} (a weight shard of ${jsonPath}) is not listed in ${ENSEMBLE_MANIFEST_FILE}'s files`,
        );
      buffers.push(bytes.slice().buffer);
    }
  }
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: tf.io.CompositeArrayBuffer.join(buffers),
    }),
  );
}
