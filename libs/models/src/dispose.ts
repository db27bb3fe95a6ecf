import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Frees a model built by `buildModel` with everything it owns. Models are compiled with optimizer
 * objects, which `model.dispose()` leaves alone, so Adam's moment tensors would leak per member.
 */
export function disposeModel(model: tfl.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}
