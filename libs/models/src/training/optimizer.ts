/**
 * Parameter updates. tfjs' Adam runs ~12 kernels per variable per step; on the cpu and wasm backends
 * that dispatch overhead dominates small models, so there the same arithmetic (tfjs' exact Adam
 * formula, bias-corrected, epsilon outside the square root) runs as one fused loop per variable
 * over the tensors' storage — in JS on cpu, as a SIMD WebAssembly loop on wasm (wasm-adam.ts).
 * Elsewhere the model's own tfjs optimizer is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { HostMemory } from './host-memory';
import { WasmAdam } from './wasm-adam';

export interface Updater {
  /** Applies one step; `grads[i]` belongs to `vars[i]`. Does not dispose `grads`. */
  apply(vars: tf.Variable[], grads: tf.Tensor[]): void;
}

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

function adamLoop(
  out: Float32Array,
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamSettings,
  c1: number,
  c2: number,
): void {
  const { beta1: b1, beta2: b2, epsilon: eps, learningRate: lr } = s;
  const d1 = 1 - b1;
  const d2 = 1 - b2;
  const n = out.length;
  for (let j = 0; j < n; j++) {
    const gj = g[j] as number;
    const mj = b1 * (m[j] as number) + d1 * gj;
    const vj = b2 * (v[j] as number) + d2 * gj * gj;
    m[j] = mj;
    v[j] = vj;
    out[j] = (p[j] as number) - (lr * (mj * c1)) / (Math.sqrt(vj * c2) + eps);
  }
}

/** Adam with its moments in JS memory; one fused pass per variable. */
export class HostAdam implements Updater {
  private readonly m = new Map<tf.Variable, Float32Array>();
  private readonly v = new Map<tf.Variable, Float32Array>();
  private t = 0;

  constructor(
    private readonly settings: AdamSettings,
    private readonly memory: HostMemory,
  ) {}

  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    this.t++;
    const c1 = 1 / (1 - this.settings.beta1 ** this.t);
    const c2 = 1 / (1 - this.settings.beta2 ** this.t);
    vars.forEach((variable, i) => {
      const grad = grads[i] as tf.Tensor;
      let m = this.m.get(variable);
      let v = this.v.get(variable);
      if (m === undefined || v === undefined) {
        m = new Float32Array(variable.size);
        v = new Float32Array(variable.size);
        this.m.set(variable, m);
        this.v.set(variable, v);
      }
      const mm = m;
      const vv = v;
      const next = this.memory.compute(variable.shape, [variable, grad], (out, [p, g]) =>
        adamLoop(out, p as Float32Array, g as Float32Array, mm, vv, this.settings, c1, c2),
      );
      variable.assign(next);
      next.dispose();
    });
  }
}

/** Plain SGD, fused the same way. */
export class HostSgd implements Updater {
  constructor(
    private readonly learningRate: number,
    private readonly memory: HostMemory,
  ) {}

  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    const lr = this.learningRate;
    vars.forEach((variable, i) => {
      const next = this.memory.compute(variable.shape, [variable, grads[i] as tf.Tensor], (out, [p, g]) => {
        const pp = p as Float32Array;
        const gg = g as Float32Array;
        for (let j = 0; j < out.length; j++) out[j] = (pp[j] as number) - lr * (gg[j] as number);
      });
      variable.assign(next);
      next.dispose();
    });
  }
}

/** The model's compiled tfjs optimizer. */
export class StockUpdater implements Updater {
  constructor(private readonly optimizer: tf.Optimizer) {}

  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    const named: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (named[v.name] = grads[i] as tf.Tensor));
    this.optimizer.applyGradients(named);
  }
}

/** The fused equivalent of `optimizer` where the backend allows it, else the optimizer itself. */
export function makeUpdater(optimizer: tf.Optimizer, memory: HostMemory | null): Updater {
  if (memory !== null) {
    const name = optimizer.getClassName();
    const config = optimizer.getConfig() as Record<string, unknown>;
    const num = (key: string, fallback?: number): number => {
      const value = config[key];
      if (typeof value === 'number') return value;
      if (fallback !== undefined) return fallback;
      throw new Error(`optimizer config lacks ${key}`);
    };
    if (name === 'Adam') {
      const settings: AdamSettings = {
        learningRate: num('learningRate'),
        beta1: num('beta1', 0.9),
        beta2: num('beta2', 0.999),
        epsilon: num('epsilon', 1e-7),
      };
      const simd = tf.getBackend() === 'wasm' ? WasmAdam.create(settings, tf.backend() as BackendWasm) : null;
      return simd ?? new HostAdam(settings, memory);
    }
    if (name === 'SGD') return new HostSgd(num('learningRate'), memory);
  }
  return new StockUpdater(optimizer);
}
