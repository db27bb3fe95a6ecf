import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ChorusError } from '@chorus/protocol';

/** tensorflowjs_converter's default shard size: weights are split into files of at most 4 MiB. */
export const SHARD_BYTES = 4 * 1024 * 1024;

/** One member in the standard TF.js layers format: `model.json` and its weight shards. */
export interface LayersModelFiles {
  /** The text of model.json: { format, generatedBy, convertedBy, modelTopology, weightsManifest }. */
  modelJson: string;
  /** Shard file names (relative to model.json) and their bytes, in weightsManifest order. */
  shards: { name: string; bytes: Uint8Array }[];
}

/** Standard tfjs-layers classes our model builders use (libs/models models/realize.ts). */
const STANDARD_CLASSES = new Set([
  'Sequential',
  'Dense',
  'Conv2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'BatchNormalization',
  'Dropout',
  'Flatten',
  'Activation',
  'InputLayer',
]);

/**
 * Saves `model` as tfjs' own `model.save` writes it (modelTopology + weightsManifest), through a
 * save handler, so the files load with plain `tf.loadLayersModel` and convert to Keras with
 * `tensorflowjs_converter`. The training config (loss, tfjs' optimizer config) is left out: an
 * export is for inference. Every layer must be a standard class; a Chorus-only class would not load
 * elsewhere, so it is refused here rather than written.
 */
export async function layersModelFiles(model: tfl.LayersModel): Promise<LayersModelFiles> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || artifacts.weightData === undefined) {
    throw new ChorusError('internal', 'tfjs saved the model without its topology or weights');
  }
  assertStandardLayers(artifacts.modelTopology);
  const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    bytes: data.subarray(i * SHARD_BYTES, Math.min(data.length, (i + 1) * SHARD_BYTES)),
  }));
  const json = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: artifacts.weightSpecs }],
  };
  return { modelJson: JSON.stringify(json), shards };
}

function assertStandardLayers(topology: object | ArrayBuffer): void {
  type Node = { class_name?: unknown; config?: { layers?: unknown[] } };
  // tfjs writes the model itself at the top; Keras' files nest it under model_config.
  const model = ((topology as { model_config?: Node }).model_config ?? topology) as Node;
  const classes = [model.class_name, ...(model.config?.layers ?? []).map((l) => (l as Node).class_name)];
  const odd = classes.filter((c) => typeof c !== 'string' || !STANDARD_CLASSES.has(c));
  if (odd.length > 0) {
    throw new ChorusError(
      'internal',
      `cannot export layer classes ${odd.map(String).join(', ')}: only standard TF.js layers load without Chorus`,
    );
  }
}
