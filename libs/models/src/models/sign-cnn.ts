/**
 * Sign-language CNN of the notes (28×28×1 → 24 classes; 264,049 parameters, 263,749 trainable):
 * Conv 75 → BN → MaxPool → Conv 50 → Dropout 0.2 → BN → MaxPool → Conv 25 → BN → MaxPool →
 * Flatten → Dense 512 → Dropout 0.3 → Dense C softmax. 3×3 'same' convolutions, 2×2 'same' pools
 * of stride 2, so any image of at least 1×1 fits (8×8 digits give a 1×1×25 feature map).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig, ModelDefaults } from '../config';
import { SpecBuilder } from './builder';
import { realizeModel } from './realize';
import type { ModelSpec } from './spec';

export const SIGN_CNN_DEFAULTS: ModelDefaults = {
  activation: 'relu',
  optimizer: 'adam',
  learningRate: 0.001,
};

export function signCnnSpec(cfg: ModelConfig): ModelSpec {
  return new SpecBuilder(cfg, SIGN_CNN_DEFAULTS)
    .conv('conv1', 75, 3, 'same')
    .batchNorm('bn1')
    .pool('maxPool', 'pool1', 'same')
    .conv('conv2', 50, 3, 'same')
    .dropout('dropout1', 0.2)
    .batchNorm('bn2')
    .pool('maxPool', 'pool2', 'same')
    .conv('conv3', 25, 3, 'same')
    .batchNorm('bn3')
    .pool('maxPool', 'pool3', 'same')
    .flatten()
    .dense('dense1', 512, 'glorotUniform')
    .dropout('dropout2', 0.3)
    .output()
    .build();
}

export function buildSignCnn(cfg: ModelConfig): tfl.Sequential {
  return realizeModel(signCnnSpec(cfg));
}
