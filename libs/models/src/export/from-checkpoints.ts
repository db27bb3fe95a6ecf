import type * as tfl from '@tensorflow/tfjs-layers';
import { memberModelSpec, type RunConfig } from '@chorus/protocol';
import { loadCheckpoint } from '../checkpoint';
import { disposeModel } from '../dispose';
import { buildModel } from '../models/registry';

/**
 * The members of a run rebuilt from their final checkpoints (the coordinator's stored container
 * bytes, in member order): each built from its spec (memberModelSpec) and loaded with its weights.
 * `chorus export` does this on the caller's side, so that the coordinator stays free of tfjs.
 */
export async function modelsFromCheckpoints(
  config: RunConfig,
  shape: { inputShape: number[]; numClasses: number },
  checkpoints: readonly Uint8Array[],
): Promise<tfl.LayersModel[]> {
  const models: tfl.LayersModel[] = [];
  try {
    for (const [m, bytes] of checkpoints.entries()) {
      const model = buildModel({ ...memberModelSpec(config, m), ...shape });
      models.push(model);
      await loadCheckpoint(model, bytes);
    }
    return models;
  } catch (error) {
    models.forEach((model) => disposeModel(model));
    throw error;
  }
}
