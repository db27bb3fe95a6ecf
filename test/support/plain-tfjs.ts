import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * What someone without Chorus does with an exported ensemble: plain TF.js. No `@chorus/*` import
 * here (eslint.config.mjs forbids it in this file), so the export is proved loadable on its own.
 */

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** `tf.loadLayersModel` with an IOHandler that reads model.json and its shards from disk. */
export async function loadPlainLayersModel(modelJsonPath: string): Promise<tfl.LayersModel> {
  const handler: tf.io.IOHandler = {
    load: async () => {
      const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
      const dir = join(modelJsonPath, '..');
      const shards: ArrayBuffer[] = [];
      for (const group of json.weightsManifest) {
        for (const path of group.paths) shards.push(new Uint8Array(await readFile(join(dir, path))).buffer);
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: tf.io.CompositeArrayBuffer.join(shards),
      };
    },
  };
  await tf.setBackend('cpu');
  return tfl.loadLayersModel(handler);
}

/** The model's softmax outputs for `count` rows of `x` (already prepared), N×C row-major. */
export function predictPlain(model: tfl.LayersModel, x: Float32Array, count: number): Float32Array {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  return tf.tidy(() => {
    const out = model.predict(tf.tensor(x, [count, ...shape])) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

const argmax = (p: Float32Array, base: number, classes: number): number => {
  let best = 0;
  for (let c = 1; c < classes; c++) if ((p[base + c] as number) > (p[base + best] as number)) best = c;
  return best;
};

/** Soft vote: the class of the members' mean probability (the lowest class on a tie). */
export function softVote(members: Float32Array[], count: number, classes: number): Int32Array {
  const out = new Int32Array(count);
  const mean = new Float32Array(classes);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < classes; c++) {
      let sum = 0;
      for (const p of members) sum += p[r * classes + c] as number;
      mean[c] = sum / members.length;
    }
    out[r] = argmax(mean, 0, classes);
  }
  return out;
}

/**
 * Hard vote: the class most members predict; a tie goes to the tied class with the larger summed
 * probability, then to the lower class (the rule Chorus documents for its hard vote).
 */
export function hardVote(members: Float32Array[], count: number, classes: number): Int32Array {
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const votes = new Array<number>(classes).fill(0);
    for (const p of members) votes[argmax(p, r * classes, classes)]! += 1;
    const top = Math.max(...votes);
    let label = -1;
    let bestSum = -Infinity;
    for (let c = 0; c < classes; c++) {
      if (votes[c] !== top) continue;
      let sum = 0;
      for (const p of members) sum += p[r * classes + c] as number;
      if (sum > bestSum) {
        bestSum = sum;
        label = c;
      }
    }
    out[r] = label;
  }
  return out;
}
