/**
 * A small description of a sequential model, shared by every builder: `inferShapes` checks that an
 * input fits (clear errors instead of tfjs' negative-dimension failures) and counts parameters
 * without a tfjs backend (for `describeModels`); `realizeModel` turns it into a compiled tfjs model.
 */
import type { ActivationName, OptimizerName } from '@chorus/protocol';
import { ModelError } from '../errors';

export type Initializer =
  'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'lecunNormal' | 'lecunUniform';
export type Padding = 'same' | 'valid';

export type LayerSpec =
  | { kind: 'flatten'; name: string }
  | {
      kind: 'dense';
      name: string;
      units: number;
      activation: ActivationName | 'linear';
      init: Initializer;
      seed: number;
    }
  | {
      kind: 'conv2d';
      name: string;
      filters: number;
      kernelSize: number;
      padding: Padding;
      activation: ActivationName | 'linear';
      init: Initializer;
      seed: number;
    }
  | { kind: 'maxPool' | 'avgPool'; name: string; poolSize: number; strides: number; padding: Padding }
  /** Keras' momentum 0.99 and epsilon 0.001 when not given. */
  | { kind: 'batchNorm'; name: string; momentum?: number; epsilon?: number }
  /** A hidden activation as its own layer (model files); the output's softmax is `softmax`. */
  | { kind: 'activation'; name: string; activation: ActivationName | 'linear' }
  /** Keras' Reshape: a sample's new shape, one dimension may be -1 (model files). */
  | { kind: 'reshape'; name: string; targetShape: number[] }
  | { kind: 'dropout'; name: string; rate: number; seed: number }
  | { kind: 'softmax'; name: string };

export interface ModelSpec {
  /** A built-in model's name, or the model file's model name. */
  name: string;
  inputShape: number[];
  layers: LayerSpec[];
  optimizer: OptimizerName;
  learningRate: number;
}

export interface ShapeReport {
  /** Output shape of each layer (without the batch dimension). */
  shapes: number[][];
  params: number;
  trainableParams: number;
}

function spatialOut(size: number, window: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

/** Shapes and parameter counts (Keras `model.summary()` conventions); throws if the input does not fit. */
export function inferShapes(spec: ModelSpec): ShapeReport {
  let shape = [...spec.inputShape];
  const shapes: number[][] = [];
  let params = 0;
  let trainableParams = 0;
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  for (const layer of spec.layers) {
    switch (layer.kind) {
      case 'flatten':
        shape = [size(shape)];
        break;
      case 'dense': {
        if (shape.length !== 1) {
          throw new ModelError(
            'incompatible-input',
            `${spec.name}: layer ${layer.name} needs a flat input, got [${shape}]`,
          );
        }
        const n = (shape[0] as number) * layer.units + layer.units;
        params += n;
        trainableParams += n;
        shape = [layer.units];
        break;
      }
      case 'conv2d':
      case 'maxPool':
      case 'avgPool': {
        if (shape.length !== 3) {
          throw new ModelError(
            'incompatible-input',
            `${spec.name} needs image input [height, width, channels]; got [${spec.inputShape}] ` +
              `(layer ${layer.name} sees [${shape}])`,
          );
        }
        const [h, w, c] = shape as [number, number, number];
        const window = layer.kind === 'conv2d' ? layer.kernelSize : layer.poolSize;
        const stride = layer.kind === 'conv2d' ? 1 : layer.strides;
        const oh = spatialOut(h, window, stride, layer.padding);
        const ow = spatialOut(w, window, stride, layer.padding);
        if (oh < 1 || ow < 1) {
          throw new ModelError(
            'incompatible-input',
            `${spec.name}: input [${spec.inputShape}] is too small — layer ${layer.name} ` +
              `(${window}×${window}, ${layer.padding} padding) gets [${shape}] and would output ${oh}×${ow}`,
          );
        }
        if (layer.kind === 'conv2d') {
          const n = window * window * c * layer.filters + layer.filters;
          params += n;
          trainableParams += n;
          shape = [oh, ow, layer.filters];
        } else {
          shape = [oh, ow, c];
        }
        break;
      }
      case 'batchNorm': {
        const c = shape[shape.length - 1] as number;
        params += 4 * c; // gamma, beta trainable; moving mean, moving variance not
        trainableParams += 2 * c;
        break;
      }
      case 'reshape': {
        const total = size(shape);
        const known = size(layer.targetShape.filter((d) => d !== -1));
        const target = layer.targetShape.map((d) => (d === -1 ? total / known : d));
        if (size(target) !== total || !target.every(Number.isInteger)) {
          throw new ModelError(
            'incompatible-input',
            `${spec.name}: layer ${layer.name} cannot reshape [${shape}] to [${layer.targetShape}]`,
          );
        }
        shape = target;
        break;
      }
      case 'dropout':
      case 'softmax':
      case 'activation':
        break;
    }
    shapes.push([...shape]);
  }
  return { shapes, params, trainableParams };
}
