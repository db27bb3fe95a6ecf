/**
 * Replacements for two tfjs gradient functions that dominate a convnet step on wasm. The
 * gradient registry is global, so these serve every backend; they compute the same values with
 * fewer full-size tensors (tested against the originals on the cpu backend).
 *
 * - Mean: tfjs computes dx = mul(reshape(dy), ones(x.shape)) / N, building the ones tensor in JS
 *   element by element and uploading it — for BatchNorm's batch moments on [64,28,28,75] that was
 *   ~130 ms of sign-cnn's step. Here dy/N (small) is broadcast with one Tile instead.
 * - FusedBatchNorm (per-channel mean/variance, i.e. BatchNormalization layers): tfjs builds ~12
 *   full-size intermediates. With a = scale/√(var+ε), xc = x − mean and the per-channel sums
 *   S₀ = Σ dy and S₁ = Σ dy·xc over all but the channel axis:
 *     dx = dy·a,  dmean = −a·S₀,  dvar = −½·scale·(var+ε)^−3/2·S₁,  dscale = S₁/√(var+ε),  doffset = S₀
 *   — three full-size products/differences and two reductions; on wasm one SIMD pass
 *   (ChorusBatchNormGrad, batch-norm.ts) computes dx, S₀ and S₁ together.
 * - Tanh: tfjs computes dy·(1 − y²) as Square, Sub and Multiply (three full-size passes); on wasm
 *   one SIMD pass (ChorusTanhGrad, activations.ts) does it; elsewhere tfjs' own function runs.
 * - Relu: tfjs computes dy·step(x) as Step, Cast and Multiply; on wasm one SIMD pass
 *   (ChorusReluGrad) with the same values; elsewhere tfjs' own function runs.
 */
import {
  add,
  div,
  engine,
  getBackend,
  getGradient,
  getKernel,
  mul,
  neg,
  registerGradient,
  reshape,
  rsqrt,
  scalar,
  sub,
  sum,
  tile,
  util,
} from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
// tfjs-layers' Node bundle registers its own copies of all gradients when it loads; loading it
// first means those registrations happen before ours and never over them.
import '@tensorflow/tfjs-layers';
import { RELU_GRAD, TANH_GRAD } from './activations';
import { BATCH_NORM_GRAD } from './batch-norm';

const ENGINE = {
  runKernel: (name: string, inputs: object, attrs: object) =>
    engine().runKernel(name, inputs as never, attrs as never),
};

const meanGradConfig: GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const x = saved[0] as Tensor;
    const axes = util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
    const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const reps = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
    const n = axes.reduce((p, a) => p * (x.shape[a] as number), 1);
    return { x: () => tile(reshape(div(dy as Tensor, n), expanded), reps) };
  },
};

function fusedBatchNormGradConfig(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dyIn: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const dy = dyIn as Tensor;
      const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
      const c = x.shape[x.rank - 1];
      if (mean.rank !== 1 || x.rank < 2 || mean.shape[0] !== c || original === undefined) {
        if (original === undefined) throw new Error('no FusedBatchNorm gradient to fall back to');
        return original.gradFunc(dyIn, saved, attrs);
      }
      const eps = attrs['varianceEpsilon'] as number;
      const axes = [...Array(x.rank - 1).keys()];
      const invStd = rsqrt(add(variance, scalar(eps)));
      const a = scale == null ? invStd : mul(scale, invStd);
      // Shared by several derivatives, so computed here (each derivative thunk runs in its own tidy).
      let dx: Tensor | null = null;
      let s0: Tensor;
      let s1: Tensor;
      if (
        getBackend() === 'wasm' &&
        getKernel(BATCH_NORM_GRAD, 'wasm') !== undefined &&
        dy.dtype === 'float32'
      ) {
        // One fused pass on wasm (batch-norm.ts).
        [dx, s0, s1] = ENGINE.runKernel(BATCH_NORM_GRAD, { x, dy, mean, a }, {}) as unknown as [
          Tensor,
          Tensor,
          Tensor,
        ];
      } else {
        s0 = sum(dy, axes);
        s1 = sum(mul(dy, sub(x, mean)), axes);
      }
      return {
        x: () => (dx === null ? mul(dy, a) : dx.clone()),
        mean: () => neg(mul(a, s0)),
        variance: () => mul(mul(mul(a, mul(invStd, invStd)), scalar(-0.5)), s1),
        scale: () => mul(invStd, s1),
        offset: () => s0.clone(),
      };
    },
  };
}

/**
 * An activation's gradient as Chorus' one-pass kernel `fused` on wasm (inputs: the saved tensor
 * under `savedName`, and dy), tfjs' own gradient function elsewhere.
 */
function activationGradConfig(
  kernelName: 'Tanh' | 'Relu',
  fused: string,
  savedName: 'x' | 'y',
  original: GradConfig | undefined,
): GradConfig {
  return {
    kernelName,
    ...(savedName === 'y' ? { outputsToSave: [true] } : { inputsToSave: ['x'] }),
    gradFunc: (dyIn: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const dy = dyIn as Tensor;
      const s = saved[0] as Tensor;
      if (
        getBackend() === 'wasm' &&
        getKernel(fused, 'wasm') !== undefined &&
        dy.dtype === 'float32' &&
        s.dtype === 'float32' &&
        util.arraysEqual(dy.shape, s.shape)
      ) {
        return { x: () => ENGINE.runKernel(fused, { [savedName]: s, dy }, {}) as Tensor };
      }
      if (original === undefined) throw new Error(`no ${kernelName} gradient to fall back to`);
      return original.gradFunc(dyIn, saved, attrs);
    },
  };
}

const originals = new Map<string, GradConfig | undefined>();
let installed = false;

export function registerChorusGradients(): void {
  if (installed) return;
  for (const name of ['Mean', 'FusedBatchNorm', 'Tanh', 'Relu']) originals.set(name, getGradient(name));
  registerGradient(meanGradConfig);
  registerGradient(fusedBatchNormGradConfig(originals.get('FusedBatchNorm')));
  registerGradient(activationGradConfig('Tanh', TANH_GRAD, 'y', originals.get('Tanh')));
  registerGradient(activationGradConfig('Relu', RELU_GRAD, 'x', originals.get('Relu')));
  installed = true;
}

export function unregisterChorusGradients(): void {
  if (!installed) return;
  for (const [, config] of originals) if (config !== undefined) registerGradient(config);
  installed = false;
}
