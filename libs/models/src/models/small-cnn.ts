/**
 * The notes' small CNN (3 classes): Conv 32 3×3 → MaxPool 2 → Conv 64 3×3 → MaxPool 2 → Flatten →
 * Dense 128 relu → Dropout 0.5 → Dense C softmax. The notes give no sizes for its feature layers;
 * Chorus uses 'same' convolutions so that every image of at least 4×4 fits (8×8 digits included):
 * 420,739 parameters at 28×28×1 → 3.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig, ModelDefaults } from '../config';
import { SpecBuilder } from './builder';
import { realizeModel } from './realize';
import type { ModelSpec } from './spec';

export const SMALL_CNN_DEFAULTS: ModelDefaults = {
  activation: 'relu',
  optimizer: 'adam',
  learningRate: 0.001,
};

export function smallCnnSpec(cfg: ModelConfig): ModelSpec {
  return new SpecBuilder(cfg, SMALL_CNN_DEFAULTS)
    .conv('conv1', 32, 3, 'same')
    .pool('maxPool', 'pool1')
    .conv('conv2', 64, 3, 'same')
    .pool('maxPool', 'pool2')
    .flatten()
    .dense('dense1', 128, 'glorotUniform')
    .dropout('dropout1', 0.5)
    .output()
    .build();
}

export function buildSmallCnn(cfg: ModelConfig): tfl.Sequential {
  return realizeModel(smallCnnSpec(cfg));
}
