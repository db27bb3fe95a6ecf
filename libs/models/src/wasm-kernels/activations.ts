/**
 * Tanh and its gradient, and ReLU's gradient, for the wasm backend.
 *
 * - Tanh: the stock kernel calls libm's tanhf per element (~7 ns each); here a SIMD pass of the
 *   clamped rational approximation Eigen uses (simd.ts; max abs error 3.9e-7 against Math.tanh),
 *   4 elements at a time, the last size mod 4 with Math.tanh. float32 only; the stock kernel
 *   otherwise, and without wasm SIMD.
 * - ChorusTanhGrad: inputs y (= tanh x) and dy; dx = dy·(1 − y²) in one SIMD pass instead of
 *   tfjs' Square, Sub and Multiply (gradients.ts routes Tanh's gradient here on wasm). Without
 *   SIMD it runs those three kernels.
 * - ChorusReluGrad: inputs x and dy; dx = dy·step(x) in one SIMD pass instead of tfjs' Step, Cast
 *   and Multiply (sign-cnn's [64,28,28,75]: ~6 ms → ~1 ms); tfjs' exact values, NaN cases included.
 *   Without SIMD it runs Step and Multiply.
 */
import { Tanh, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, release, runWasmKernel } from './backend-ops';
import type { BackendWasm } from './backend-ops';
import { simdKernels } from './simd';
import type { SimdKernels, TanhGradVec } from './simd';

type KernelArgs = Parameters<KernelFunc>[0];

/** Name of Chorus' fused Tanh-gradient kernel (registered for 'wasm' only). */
export const TANH_GRAD = 'ChorusTanhGrad';
/** Name of Chorus' fused ReLU-gradient kernel (registered for 'wasm' only). */
export const RELU_GRAD = 'ChorusReluGrad';

const addr = (backend: BackendWasm, t: TensorInfo): number =>
  backend.dataIdMap.get(t.dataId)?.memoryOffset as number;

function tanh(stock: KernelConfig | undefined) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const simd = simdKernels(backend);
    if (x.dtype !== 'float32' || simd === null) {
      if (stock === undefined) throw new Error('Tanh: no stock kernel to fall back to');
      return stock.kernelFunc(args) as TensorInfo;
    }
    const y = backend.makeOutput([...x.shape], 'float32');
    const n = util.sizeFromShape(x.shape);
    const n4 = n & ~3;
    simd.tanh(addr(backend, x), addr(backend, y), 4 * n4);
    if (n4 < n) {
      const xs = f32(backend, x);
      const ys = f32(backend, y);
      for (let i = n4; i < n; i++) ys[i] = Math.tanh(xs[i] as number);
    }
    return y;
  };
}

/**
 * dx = dy · d(s) elementwise, s being the tensor the gradient is written with (y for tanh, x for
 * ReLU): one SIMD pass over the first multiple of 4 elements, `tail` for the rest, and `fallback`
 * (stock kernels) without wasm SIMD.
 */
function derivativePass(
  args: KernelArgs,
  savedName: 'x' | 'y',
  pass: (simd: SimdKernels) => TanhGradVec,
  tail: (s: number) => number,
  fallback: (backend: BackendWasm, s: TensorInfo, dy: TensorInfo) => TensorInfo,
): TensorInfo {
  const backend = args.backend as BackendWasm;
  const s = args.inputs[savedName] as TensorInfo;
  const dy = args.inputs['dy'] as TensorInfo;
  const simd = simdKernels(backend);
  if (simd === null) return fallback(backend, s, dy);
  const dx = backend.makeOutput([...s.shape], 'float32');
  const n = util.sizeFromShape(s.shape);
  const n4 = n & ~3;
  pass(simd)(addr(backend, s), addr(backend, dy), addr(backend, dx), 4 * n4);
  if (n4 < n) {
    const ss = f32(backend, s);
    const ds = f32(backend, dy);
    const dxs = f32(backend, dx);
    for (let i = n4; i < n; i++) dxs[i] = (ds[i] as number) * tail(ss[i] as number);
  }
  return dx;
}

const tanhGrad = (args: KernelArgs): TensorInfo =>
  derivativePass(
    args,
    'y',
    (simd) => simd.tanhGrad,
    (y) => 1 - y * y,
    (backend, y, dy) => {
      const y2 = runWasmKernel(backend, 'Square', { x: y });
      const one = backend.makeOutput([], 'float32');
      f32(backend, one)[0] = 1;
      const d = runWasmKernel(backend, 'Sub', { a: one, b: y2 });
      const dx = runWasmKernel(backend, 'Multiply', { a: dy, b: d });
      release(backend, y2, one, d);
      return dx;
    },
  );

const reluGrad = (args: KernelArgs): TensorInfo =>
  derivativePass(
    args,
    'x',
    (simd) => simd.reluGrad,
    (x) => (x > 0 ? 1 : Number.isNaN(x) ? NaN : 0),
    (backend, x, dy) => {
      const step = runWasmKernel(backend, 'Step', { x }, { alpha: 0 });
      const dx = runWasmKernel(backend, 'Multiply', { a: dy, b: step });
      release(backend, step);
      return dx;
    },
  );

export function activationKernelConfigs(stockOf: (name: string) => KernelConfig | undefined): KernelConfig[] {
  return [
    { kernelName: Tanh, backendName: 'wasm', kernelFunc: tanh(stockOf(Tanh)) as KernelFunc },
    { kernelName: TANH_GRAD, backendName: 'wasm', kernelFunc: tanhGrad as unknown as KernelFunc },
    { kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: reluGrad as unknown as KernelFunc },
  ];
}
