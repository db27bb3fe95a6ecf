/**
 * The dense fast path on backends whose tensors live in this process (cpu, wasm). Two things make
 * it fast where `tf.variableGrads` is slow:
 * - Kernel count. Matrix products stay tfjs kernels (XNNPACK on wasm); everything elementwise —
 *   bias and activation, dropout, softmax and the loss gradient, activation derivatives, bias
 *   gradients and the batch metrics — runs as one JS pass per layer over the tensors' storage.
 *   Per layer that is 4 kernels where autodiff dispatches ~13 plus tape bookkeeping.
 * - Operand order. XNNPACK re-packs the right operand of every product (a layer's weights change
 *   every step, so nothing is cached), which for a [K, N] weight costs about as much as the product
 *   itself at batch 64. So activations are kept transposed ([units, batch]) and every product has
 *   a batch-sized right operand:
 *     forward      zᵀ = Wᵀ · hᵀ        (Wᵀ: one transpose per layer and step)
 *     weight grad  dW = hᵀ · dz
 *     input grad   daᵀ = W · dzᵀ
 * Gradients equal those of `denseGradients` / `tf.variableGrads` (dense-plan.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseActivation, DensePlan, DenseStage } from './dense-plan';
import type { HostMemory } from './host-memory';

/** Keras clips probabilities to [1e-7, 1 − 1e-7] before the log. */
const EPS = 1e-7;

export interface HostStepResult {
  /** Gradients of the mean cross-entropy, ordered like `plan.vars`. */
  grads: tf.Tensor[];
  /** Summed cross-entropy and correct predictions of the batch. */
  loss: number;
  correct: number;
}

/** Per-stage reusable buffers for dropout masks. */
export class MaskBuffers {
  private buffers: Float32Array[] = [];

  get(stage: number, size: number): Float32Array {
    let b = this.buffers[stage];
    if (b === undefined || b.length < size) {
      b = new Float32Array(size);
      this.buffers[stage] = b;
    }
    return b.subarray(0, size);
  }
}

function hostTranspose(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const block = 16;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < cols; c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[base + c] as number;
      }
    }
  }
}

/**
 * Wᵀ of a [rows, cols] weight. tfjs-backend-wasm's Transpose slows down ~10× when its output rows
 * are a multiple of a large power of two (2.3 ms for 512×512 against 0.19 ms for 500×500; cache
 * aliasing); those go through a blocked JS transpose instead.
 */
function transposeWeight(memory: HostMemory, w: tf.Tensor2D): tf.Tensor2D {
  const [rows, cols] = w.shape;
  if (tf.getBackend() === 'wasm' && rows % 128 !== 0) return tf.transpose(w);
  return memory.compute([cols, rows], [w], (out, [src]) =>
    hostTranspose(src as Float32Array, out, rows, cols),
  ) as tf.Tensor2D;
}

/**
 * aᵀ = act(zᵀ + b) for zᵀ [units, batch]; with dropout also hᵀ = aᵀ · mask, the mask drawn in
 * [batch, units] order exactly as `fillDropoutMask` draws it (same stream, same values).
 */
function forwardActivation(
  a: Float32Array,
  h: Float32Array | null,
  z: Float32Array,
  bias: Float32Array,
  activation: DenseActivation,
  batch: number,
  dropout: { mask: Float32Array; rate: number; seed: number } | null,
): void {
  const units = bias.length;
  for (let u = 0; u < units; u++) {
    const b = bias[u] as number;
    const row = u * batch;
    for (let r = 0; r < batch; r++) {
      const v = (z[row + r] as number) + b;
      a[row + r] =
        activation === 'relu'
          ? v > 0
            ? v
            : 0
          : activation === 'sigmoid'
            ? 1 / (1 + Math.exp(-v))
            : activation === 'tanh'
              ? Math.tanh(v)
              : v;
    }
  }
  if (dropout === null || h === null) return;
  const { mask, rate } = dropout;
  const keep = 1 / (1 - rate);
  const threshold = Math.min(0xffffffff, Math.floor(rate * 4294967296));
  let s = dropout.seed >>> 0;
  for (let r = 0; r < batch; r++) {
    for (let u = 0; u < units; u++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const m = (t ^ (t >>> 14)) >>> 0 >= threshold ? keep : 0;
      mask[r * units + u] = m;
      h[u * batch + r] = (a[u * batch + r] as number) * m;
    }
  }
}

/**
 * From logitsᵀ [classes, batch] (bias not yet added): softmax, the summed loss and hits of the
 * batch, dz = (softmax − onehot)/B in both layouts, and its column sums (the output bias gradient).
 */
function softmaxCrossEntropyGrad(
  zT: Float32Array,
  bias: Float32Array,
  labels: Int32Array,
  dz: Float32Array,
  dzT: Float32Array | null,
  db: Float32Array,
  row: Float32Array,
): { loss: number; correct: number } {
  const batch = labels.length;
  const classes = bias.length;
  const scale = 1 / batch;
  let loss = 0;
  let correct = 0;
  db.fill(0);
  for (let r = 0; r < batch; r++) {
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const v = (zT[c * batch + r] as number) + (bias[c] as number);
      row[c] = v;
      if (v > max) {
        max = v;
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp((row[c] as number) - max);
      row[c] = e;
      sum += e;
    }
    const label = labels[r] as number;
    if (best === label) correct++;
    const inv = 1 / sum;
    loss -= Math.log(Math.min(1 - EPS, Math.max(EPS, (row[label] as number) * inv)));
    for (let c = 0; c < classes; c++) {
      const g = ((row[c] as number) * inv - (c === label ? 1 : 0)) * scale;
      dz[r * classes + c] = g;
      if (dzT !== null) dzT[c * batch + r] = g;
      db[c] = (db[c] as number) + g;
    }
  }
  return { loss, correct };
}

/**
 * From daᵀ and aᵀ ([units, batch]; a: the layer's activation before dropout): dz = da · mask ·
 * act'(a) in both layouts (dzᵀ only when asked) and db = column sums of dz.
 */
function hiddenGrad(
  dz: Float32Array,
  dzT: Float32Array | null,
  db: Float32Array,
  daT: Float32Array,
  aT: Float32Array,
  mask: Float32Array | null,
  activation: DenseActivation,
  batch: number,
): void {
  const units = db.length;
  for (let u = 0; u < units; u++) {
    const row = u * batch;
    let sum = 0;
    for (let r = 0; r < batch; r++) {
      const i = row + r;
      let g = daT[i] as number;
      if (mask !== null) g *= mask[r * units + u] as number;
      const a = aT[i] as number;
      switch (activation) {
        case 'relu':
          g = a > 0 ? g : 0;
          break;
        case 'sigmoid':
          g *= a * (1 - a);
          break;
        case 'tanh':
          g *= 1 - a * a;
          break;
        case 'linear':
          break;
      }
      dz[r * units + u] = g;
      if (dzT !== null) dzT[i] = g;
      sum += g;
    }
    db[u] = sum;
  }
}

/**
 * One training-mode forward and backward pass of a batch `x` [batch, features]. `dropoutSeeds[i]`
 * seeds hidden stage i's mask for this step. Returns the gradients and the batch's loss and hits.
 */
export function denseGradientsHost(
  plan: DensePlan,
  memory: HostMemory,
  x: tf.Tensor2D,
  labels: Int32Array,
  dropoutSeeds: number[],
  masks: MaskBuffers,
): HostStepResult {
  let loss = 0;
  let correct = 0;
  const grads = tf.tidy(() => {
    const { stages } = plan;
    const last = stages.length - 1;
    const batch = x.shape[0];
    const inputsT: tf.Tensor2D[] = [tf.transpose(x)]; // hᵀ entering each stage
    const actsT: tf.Tensor2D[] = []; // aᵀ of each hidden stage, before dropout
    const stageMasks: (Float32Array | null)[] = [];
    for (let i = 0; i < last; i++) {
      const stage = stages[i] as DenseStage;
      const zT = tf.matMul(transposeWeight(memory, stage.kernel as tf.Tensor2D), inputsT[i] as tf.Tensor2D);
      const shape = [stage.units, batch];
      const dropout =
        stage.dropout === null
          ? null
          : {
              mask: masks.get(i, batch * stage.units),
              rate: stage.dropout.rate,
              seed: dropoutSeeds[i] as number,
            };
      stageMasks.push(dropout?.mask ?? null);
      const [aT, hT] = memory.computeMany(
        dropout === null ? [shape] : [shape, shape],
        [zT, stage.bias],
        ([a, h], [z, b]) =>
          forwardActivation(
            a as Float32Array,
            h ?? null,
            z as Float32Array,
            b as Float32Array,
            stage.activation,
            batch,
            dropout,
          ),
      ) as [tf.Tensor2D, tf.Tensor2D | undefined];
      actsT.push(aT);
      inputsT.push(hT ?? aT);
    }
    const out = stages[last] as DenseStage;
    const logitsT = tf.matMul(
      transposeWeight(memory, out.kernel as tf.Tensor2D),
      inputsT[last] as tf.Tensor2D,
    );
    const classes = out.units;
    const rowBuffer = new Float32Array(classes);
    const shapes = (units: number, withT: boolean): number[][] =>
      withT ? [[batch, units], [units], [units, batch]] : [[batch, units], [units]];
    let [dz, db, dzT] = memory.computeMany(
      shapes(classes, last > 0),
      [logitsT, out.bias],
      ([dzv, dbv, dzTv], [zv, bv]) => {
        ({ loss, correct } = softmaxCrossEntropyGrad(
          zv as Float32Array,
          bv as Float32Array,
          labels,
          dzv as Float32Array,
          dzTv ?? null,
          dbv as Float32Array,
          rowBuffer,
        ));
      },
    ) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D | undefined];
    const grads: tf.Tensor[] = new Array<tf.Tensor>(plan.vars.length);
    for (let i = last; i >= 0; i--) {
      const stage = stages[i] as DenseStage;
      grads[2 * i] = tf.matMul(inputsT[i] as tf.Tensor2D, dz);
      grads[2 * i + 1] = db;
      if (i > 0) {
        const prev = stages[i - 1] as DenseStage;
        const daT = tf.matMul(stage.kernel as tf.Tensor2D, dzT as tf.Tensor2D);
        const mask = stageMasks[i - 1] ?? null;
        [dz, db, dzT] = memory.computeMany(
          shapes(prev.units, i - 1 > 0),
          [daT, actsT[i - 1] as tf.Tensor2D],
          ([dzv, dbv, dzTv], [dav, av]) =>
            hiddenGrad(
              dzv as Float32Array,
              dzTv ?? null,
              dbv as Float32Array,
              dav as Float32Array,
              av as Float32Array,
              mask,
              prev.activation,
              batch,
            ),
        ) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D | undefined];
      }
    }
    return grads;
  });
  return { grads, loss, correct };
}
