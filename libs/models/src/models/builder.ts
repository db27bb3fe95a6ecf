import { hiddenSize, type ActivationName } from '@chorus/protocol';
import type { Hyper, ModelConfig, ModelDefaults } from '../config';
import { resolveHyper } from '../config';
import { deriveSeed } from '../seeds';
import type { Initializer, LayerSpec, ModelSpec, Padding } from './spec';

/**
 * Collects a model's layers with the member's overrides applied: hidden layers sized from
 * `width` (units of the widest Dense one; see hiddenSize in @chorus/protocol), hidden activations replaced, dropout rates replaced, and every layer seeded from (member seed, layer name).
 */
export class SpecBuilder {
  readonly hyper: Hyper;
  private readonly layers: LayerSpec[] = [];

  constructor(
    private readonly cfg: ModelConfig,
    defaults: ModelDefaults,
  ) {
    this.hyper = resolveHyper(cfg, defaults);
  }

  private seed(name: string): number {
    return deriveSeed(this.cfg.seed, name);
  }

  /** Flattens image-shaped input for dense models (a no-op for flat input). */
  flattenInput(): this {
    if (this.cfg.inputShape.length > 1) this.layers.push({ kind: 'flatten', name: 'flatten' });
    return this;
  }

  flatten(name = 'flatten'): this {
    this.layers.push({ kind: 'flatten', name });
    return this;
  }

  /** A hidden dense layer; `init` may depend on the (possibly overridden) activation. */
  dense(name: string, units: number, init: Initializer | ((a: ActivationName) => Initializer)): this {
    const activation = this.hyper.activation;
    this.layers.push({
      kind: 'dense',
      name,
      units: hiddenSize(this.cfg.name, units, this.hyper.width),
      activation,
      init: typeof init === 'function' ? init(activation) : init,
      seed: this.seed(name),
    });
    return this;
  }

  conv(name: string, filters: number, kernelSize: number, padding: Padding): this {
    this.layers.push({
      kind: 'conv2d',
      name,
      filters: hiddenSize(this.cfg.name, filters, this.hyper.width),
      kernelSize,
      padding,
      activation: this.hyper.activation,
      init: 'glorotUniform',
      seed: this.seed(name),
    });
    return this;
  }

  pool(kind: 'maxPool' | 'avgPool', name: string, padding: Padding = 'valid'): this {
    this.layers.push({ kind, name, poolSize: 2, strides: 2, padding });
    return this;
  }

  batchNorm(name: string): this {
    this.layers.push({ kind: 'batchNorm', name });
    return this;
  }

  /** A dropout layer of the model's own design: the override replaces its rate; rate 0 drops it. */
  dropout(name: string, rate: number): this {
    const r = this.hyper.dropout ?? rate;
    if (r > 0) this.layers.push({ kind: 'dropout', name, rate: r, seed: this.seed(name) });
    return this;
  }

  /** Dropout that exists only when the member asks for it (models designed without dropout). */
  optionalDropout(name: string): this {
    return this.dropout(name, 0);
  }

  /** Dense(C) with Keras' default initializer, then softmax as its own layer. */
  output(): this {
    this.layers.push({
      kind: 'dense',
      name: 'output',
      units: this.cfg.numClasses,
      activation: 'linear',
      init: 'glorotUniform',
      seed: this.seed('output'),
    });
    this.layers.push({ kind: 'softmax', name: 'softmax' });
    return this;
  }

  build(): ModelSpec {
    return {
      name: this.cfg.name,
      inputShape: [...this.cfg.inputShape],
      layers: [...this.layers],
      optimizer: this.hyper.optimizer,
      learningRate: this.hyper.learningRate,
    };
  }
}
