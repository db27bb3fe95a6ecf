/**
 * Parameter updates. tfjs' Adam runs ~12 kernels per variable per step; on the cpu and wasm backends
 * that dispatch overhead dominates small models, so there the same arithmetic (tfjs' exact Adam
 * formula, bias-corrected, epsilon outside the square root) runs as one fused loop per variable
 * over the tensors' storage — in JS on cpu, as a SIMD WebAssembly loop on wasm (wasm-adam.ts).
 * Elsewhere the model's own tfjs optimizer is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ModelError } from '../errors';
import type { HostMemory } from './host-memory';
import { checkState } from './updater-state';
import type { Updater, UpdaterState } from './updater-state';
import { WasmAdam } from './wasm-adam';
import { yieldToEventLoop } from '../yield';

export type { Updater, UpdaterState } from './updater-state';

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

  async prepare(vars: tf.Variable[]): Promise<void> {
    for (const variable of vars) {
      if (!this.m.has(variable)) {
        this.m.set(variable, new Float32Array(variable.size));
        this.v.set(variable, new Float32Array(variable.size));
      }
      await yieldToEventLoop();
    }
  }

  /** Copies the moments variable by variable, the event loop getting a turn after each. */
  async exportState(): Promise<UpdaterState> {
    const slots: UpdaterState['slots'] = [];
    const iterations = this.t;
    for (const [variable, m] of this.m) {
      slots.push({ variable, slot: 'm', values: m.slice() });
      slots.push({ variable, slot: 'v', values: (this.v.get(variable) as Float32Array).slice() });
      await yieldToEventLoop();
    }
    return { optimizer: 'Adam', iterations, scalars: {}, slots };
  }

  async importState(state: UpdaterState): Promise<void> {
    const slots = checkState(state, 'Adam', ['m', 'v']);
    const m = new Map<tf.Variable, Float32Array>();
    const v = new Map<tf.Variable, Float32Array>();
    for (const [variable, s] of slots) {
      m.set(variable, (s.get('m') ?? new Float32Array(variable.size)).slice());
      v.set(variable, (s.get('v') ?? new Float32Array(variable.size)).slice());
      await yieldToEventLoop();
    }
    this.m.clear();
    this.v.clear();
    for (const [variable, values] of m) this.m.set(variable, values);
    for (const [variable, values] of v) this.v.set(variable, values);
    this.t = state.iterations;
  }

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
  private t = 0;

  constructor(
    private readonly learningRate: number,
    private readonly memory: HostMemory,
  ) {}

  exportState(): Promise<UpdaterState> {
    return Promise.resolve({ optimizer: 'SGD', iterations: this.t, scalars: {}, slots: [] });
  }

  importState(state: UpdaterState): Promise<void> {
    checkState(state, 'SGD', []);
    this.t = state.iterations;
    return Promise.resolve();
  }

  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    this.t++;
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

/** Scalar fields some tfjs optimizers update by repeated products (Adam, Adamax: β₁ᵗ, β₂ᵗ). */
const PRODUCT_SCALARS = ['accBeta1', 'accBeta2'] as const;

/**
 * The model's compiled tfjs optimizer. Its state is what its `getWeights()` lists (`iter`, then
 * each slot for every variable as `<variable name>/<slot>`) plus Adam's running β products, which
 * `setWeights` would recompute with `pow` and so differ in the last bits. tfjs matches slots to
 * variables by position, so the variables always go to it in creation order: a model rebuilt from
 * the same spec then lines up with the saved slots whichever training path runs.
 */
export class StockUpdater implements Updater {
  constructor(private readonly optimizer: tf.Optimizer) {}

  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    const order = vars
      .map((_, i) => i)
      .sort((a, b) => (vars[a] as tf.Variable).id - (vars[b] as tf.Variable).id);
    const named: tf.NamedTensorMap = {};
    for (const i of order) named[(vars[i] as tf.Variable).name] = grads[i] as tf.Tensor;
    this.optimizer.applyGradients(named);
  }

  async exportState(): Promise<UpdaterState> {
    const [iter, ...rest] = await this.optimizer.getWeights();
    const iterations = iter === undefined ? 0 : ((await iter.tensor.data())[0] as number);
    iter?.tensor.dispose(); // a fresh scalar from saveIterations; the others are the optimizer's
    const byName = new Map(Object.values(tf.engine().registeredVariables).map((v) => [v.name, v]));
    const slots: UpdaterState['slots'] = [];
    for (const { name, tensor } of rest) {
      const cut = name.lastIndexOf('/');
      const variable = byName.get(name.slice(0, cut));
      if (variable === undefined) throw new Error(`optimizer weight ${name} names no variable`);
      slots.push({ variable, slot: name.slice(cut + 1), values: Float32Array.from(await tensor.data()) });
    }
    const scalars: Record<string, number> = {};
    const fields = this.optimizer as unknown as Record<string, unknown>;
    for (const key of PRODUCT_SCALARS) {
      const t = fields[key];
      if (t instanceof tf.Tensor) scalars[key] = (await t.data())[0] as number;
    }
    return { optimizer: this.optimizer.getClassName(), iterations, scalars, slots };
  }

  async importState(state: UpdaterState): Promise<void> {
    const slotNames = [...new Set(state.slots.map((s) => s.slot))];
    const slots = checkState(state, this.optimizer.getClassName(), slotNames);
    if (this.optimizer.iterations > 0) {
      throw new ModelError(
        'invalid-config',
        'optimizer state can only be restored into an optimizer that has not stepped yet',
      );
    }
    const vars = [...slots.keys()].sort((a, b) => a.id - b.id);
    const tensors: { name: string; tensor: tf.Tensor }[] = [
      { name: 'iter', tensor: tf.scalar(state.iterations, 'int32') },
      ...slotNames.flatMap((slot) =>
        vars.map((variable) => ({
          name: `${variable.name}/${slot}`,
          tensor: tf.tensor(
            slots.get(variable)?.get(slot) ?? new Float32Array(variable.size),
            variable.shape,
          ),
        })),
      ),
    ];
    try {
      await this.optimizer.setWeights(tensors);
    } finally {
      tf.dispose(tensors.map((t) => t.tensor)); // the optimizer made its own variables of them
    }
    const fields = this.optimizer as unknown as Record<string, unknown>;
    tf.tidy(() => {
      for (const key of PRODUCT_SCALARS) {
        const target = fields[key];
        const value = state.scalars[key];
        if (target instanceof tf.Variable && value !== undefined) target.assign(tf.scalar(value));
      }
    });
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
