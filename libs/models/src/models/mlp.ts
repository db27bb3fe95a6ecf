/**
 * MLP of the ensemble notes: input → Dense 50 ×4 → Dense C softmax (47,410 parameters at 784 → 10).
 *
 * The notes train it with sigmoid + SGD (lr 0.001) — which left members at ≈0.21 accuracy after
 * 100 epochs — or with relu (optionally he_normal), which reached 0.9998 train accuracy. Chorus
 * defaults to relu + he_normal + Adam (lr 0.001); `activation: 'sigmoid', optimizer: 'sgd'`
 * reproduces the notes' first setting (sigmoid/tanh layers use Keras' glorot_uniform).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig, ModelDefaults } from '../config';
import { SpecBuilder } from './builder';
import { realizeModel } from './realize';
import type { ModelSpec } from './spec';

export const MLP_DEFAULTS: ModelDefaults = { activation: 'relu', optimizer: 'adam', learningRate: 0.001 };

export function mlpSpec(cfg: ModelConfig): ModelSpec {
  const b = new SpecBuilder(cfg, MLP_DEFAULTS).flattenInput();
  for (let i = 1; i <= 4; i++) {
    b.dense(`hidden${i}`, 50, (a) => (a === 'relu' ? 'heNormal' : 'glorotUniform')).optionalDropout(
      `dropout${i}`,
    );
  }
  return b.output().build();
}

export function buildMlp(cfg: ModelConfig): tfl.Sequential {
  return realizeModel(mlpSpec(cfg));
}
