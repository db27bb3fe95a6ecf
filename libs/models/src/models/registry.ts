import type * as tfl from '@tensorflow/tfjs-layers';
import { MODEL_NAMES, type ModelName } from '@chorus/protocol';
import type { ModelConfig } from '../config';
import { ModelError } from '../errors';
import { fashionDnnSpec } from './fashion-dnn';
import { fashionSmallSpec } from './fashion-small';
import { modelFileSpec } from './from-file';
import { lenet5Spec } from './lenet5';
import { mlpSpec } from './mlp';
import { realizeModel, realizeModelYielding } from './realize';
import { signCnnSpec } from './sign-cnn';
import { smallCnnSpec } from './small-cnn';
import type { ModelSpec } from './spec';
import { inferShapes } from './spec';

interface Entry {
  spec: (cfg: ModelConfig) => ModelSpec;
  description: string;
  referenceInputShape: number[];
  referenceClasses: number;
}

const MODELS: Record<ModelName, Entry> = {
  mlp: {
    spec: mlpSpec,
    description: 'MLP of the ensemble notes: Dense 50 ×4 (relu, he_normal) → softmax; Adam lr 0.001',
    referenceInputShape: [784],
    referenceClasses: 10,
  },
  'fashion-dnn': {
    spec: fashionDnnSpec,
    description: 'Fashion DNN: (Dense 512 relu glorot_normal → Dropout 0.3) ×4 → softmax; Adam lr 0.001',
    referenceInputShape: [784],
    referenceClasses: 10,
  },
  'fashion-small': {
    spec: fashionSmallSpec,
    description: 'Small Fashion-MNIST network: Dense 100 (relu) → softmax; Adam lr 0.001',
    referenceInputShape: [784],
    referenceClasses: 10,
  },
  'sign-cnn': {
    spec: signCnnSpec,
    description:
      'Sign-language CNN: conv 75/50/25 3×3 with BatchNorm, max-pooling and dropout → Dense 512 → softmax',
    referenceInputShape: [28, 28, 1],
    referenceClasses: 24,
  },
  lenet5: {
    spec: lenet5Spec,
    description:
      'Classic LeNet-5: conv 6 5×5 → avg-pool → conv 16 5×5 → avg-pool → 120 → 84 → softmax (tanh); needs ≥12×12 images',
    referenceInputShape: [28, 28, 1],
    referenceClasses: 10,
  },
  'small-cnn': {
    spec: smallCnnSpec,
    description:
      'Small CNN of the notes: conv 32 → max-pool → conv 64 → max-pool → Dense 128 → Dropout 0.5 → softmax',
    referenceInputShape: [28, 28, 1],
    referenceClasses: 3,
  },
};

function entry(name: ModelName): Entry {
  const e = (MODELS as Partial<Record<string, Entry>>)[name];
  if (e === undefined) {
    throw new ModelError(
      'invalid-config',
      `unknown model '${String(name)}'; expected one of ${MODEL_NAMES.join(', ')}`,
    );
  }
  return e;
}

/** The layer description of a member, from its model file when it has one (checked against its input shape, no tfjs needed). */
export function modelSpec(cfg: ModelConfig): ModelSpec {
  const { modelFile } = cfg;
  const spec = modelFile === undefined ? entry(cfg.name).spec(cfg) : modelFileSpec({ ...cfg, modelFile });
  inferShapes(spec);
  return spec;
}

/**
 * Builds one ensemble member: a compiled tfjs model (categorical cross-entropy, accuracy) whose
 * initializers and dropout masks are all seeded from `cfg.seed`. Needs an initialised tfjs backend
 * (see `selectBackend`).
 */
export function buildModel(cfg: ModelConfig): tfl.LayersModel {
  return realizeModel(modelSpec(cfg));
}

/** `buildModel`, the same model, yielding to the event loop between layers (a worker's heartbeats). */
export function buildModelYielding(cfg: ModelConfig): Promise<tfl.LayersModel> {
  return realizeModelYielding(modelSpec(cfg));
}

export interface ModelDescription {
  name: ModelName;
  description: string;
  /** Keras `model.summary()` total at the reference input shape and class count. */
  params: number;
  trainableParams: number;
  referenceInputShape: number[];
  referenceClasses: number;
}

/** The models Chorus can build, with their default parameter counts (computed without tfjs). */
export function describeModels(): ModelDescription[] {
  return MODEL_NAMES.map((name) => {
    const e = entry(name);
    const { params, trainableParams } = inferShapes(
      e.spec({ name, inputShape: e.referenceInputShape, numClasses: e.referenceClasses, seed: 0 }),
    );
    return {
      name,
      description: e.description,
      params,
      trainableParams,
      referenceInputShape: [...e.referenceInputShape],
      referenceClasses: e.referenceClasses,
    };
  });
}
