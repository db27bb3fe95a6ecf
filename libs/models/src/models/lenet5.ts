/**
 * Classic LeNet-5 (LeCun et al. 1998) as usually written in Keras: Conv 6 5×5 'same' tanh →
 * AvgPool 2 → Conv 16 5×5 'valid' tanh → AvgPool 2 → Flatten → Dense 120 → Dense 84 → Dense C
 * softmax (61,706 parameters at 28×28×1 → 10). Needs images of at least 12×12: 8×8 digits are too
 * small for its valid 5×5 convolution and are rejected with an 'incompatible-input' error.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig, ModelDefaults } from '../config';
import { SpecBuilder } from './builder';
import { realizeModel } from './realize';
import type { ModelSpec } from './spec';

export const LENET5_DEFAULTS: ModelDefaults = { activation: 'tanh', optimizer: 'adam', learningRate: 0.001 };

export function lenet5Spec(cfg: ModelConfig): ModelSpec {
  return new SpecBuilder(cfg, LENET5_DEFAULTS)
    .conv('conv1', 6, 5, 'same')
    .pool('avgPool', 'pool1')
    .conv('conv2', 16, 5, 'valid')
    .pool('avgPool', 'pool2')
    .flatten()
    .dense('dense1', 120, 'glorotUniform')
    .optionalDropout('dropout1')
    .dense('dense2', 84, 'glorotUniform')
    .optionalDropout('dropout2')
    .output()
    .build();
}

export function buildLenet5(cfg: ModelConfig): tfl.Sequential {
  return realizeModel(lenet5Spec(cfg));
}
