/**
 * Chorus' kernels for the tfjs wasm backend (tfjs-backend-wasm 4.22, SIMD, one thread), which
 * make convnets train there, and fast (ARCHITECTURE.md, "Constraints that shaped the build"); figures in
 * bench/kernels.bench.ts. Each file says which identity its kernels use:
 *
 * - conv2d-grads.ts   Conv2DBackpropFilter (missing in stock) and Conv2DBackpropInput (slow in
 *                     stock), both as the backend's own XNNPACK Conv2D / BatchMatMul over
 *                     re-arranged tensors (few input channels: Pᵀ·dy, Pᵀ the transposed im2col
 *                     built by block copies; one input channel and ≤ 8 output channels: a SIMD
 *                     kernel in simd.ts; the input gradient of a valid stride-1 convolution:
 *                     a product into columns, then a SIMD col2im).
 * - pooling-grads.ts  MaxPoolGrad (a hand-assembled wasm SIMD kernel for 2×2/2 windows; the stock
 *                     one is slow and breaks ties differently from cpu), AvgPool and AvgPoolGrad
 *                     (SIMD for 2×2/2 windows inside x; stock otherwise).
 * - activations.ts    Tanh (SIMD, Eigen's clamped rational approximation, ≤ 4e-7 from Math.tanh),
 *                     ChorusTanhGrad (dx = dy·(1 − y²)) and ChorusReluGrad (dx = dy·step(x)),
 *                     each one SIMD pass.
 * - batch-norm.ts     FusedBatchNorm forward (one SIMD pass) and ChorusBatchNormGrad, the fused
 *                     pass behind BatchNorm's gradient.
 * - basic-kernels.ts  Sum/Mean over leading axes (XNNPACK average pooling), Tile (block copies),
 *                     BatchMatMul with transposes (explicit transpose + XNNPACK), Identity and
 *                     same-dtype Cast (shared buffers instead of copies).
 * - gradients.ts      tfjs' Mean, FusedBatchNorm, Tanh and Relu gradient functions, replaced by
 *                     equivalent ones with far fewer full-size tensors (global: they serve every
 *                     backend; Tanh's and Relu's use the fused kernels on wasm, tfjs' own elsewhere).
 * - simd.ts           the hand-assembled SIMD kernels, running on the wasm heap in place.
 *
 * `registerChorusWasmKernels()` may be called before or after `tf.setBackend('wasm')`; repeated
 * calls are no-ops. Every replacement falls back to the stock kernel outside the cases it handles.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
// Importing the package registers the stock wasm kernels now, so ours replace them (never the reverse).
import '@tensorflow/tfjs-backend-wasm';
import { activationKernelConfigs } from './activations';
import { basicKernelConfigs } from './basic-kernels';
import { batchNormKernelConfigs } from './batch-norm';
import { conv2DGradKernelConfigs } from './conv2d-grads';
import { registerChorusGradients, unregisterChorusGradients } from './gradients';
import { poolingGradKernelConfigs } from './pooling-grads';

const STOCK_NAMES = [
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'MaxPoolGrad',
  'AvgPool',
  'AvgPoolGrad',
  'Tanh',
  'FusedBatchNorm',
  'Identity',
  'Cast',
  'Tile',
  'Sum',
  'Mean',
  'BatchMatMul',
] as const;

/** The stock wasm kernels, captured at import (before anything of ours is registered). */
const stock = new Map<string, KernelConfig | undefined>(STOCK_NAMES.map((n) => [n, getKernel(n, 'wasm')]));
const stockOf = (name: string): KernelConfig | undefined => stock.get(name);

// A stock kernel's setupFunc (its cwrap of the C++ entry point) runs when the backend initialises,
// for the kernels registered then. Ours delegate to stock kernels, so each carries the setupFunc of
// the stock kernel it replaces: whichever is registered at init time, the stock kernel gets set up.
const configs: KernelConfig[] = [
  ...conv2DGradKernelConfigs(stockOf('Conv2DBackpropInput')),
  ...poolingGradKernelConfigs(stockOf),
  ...batchNormKernelConfigs(stockOf),
  ...activationKernelConfigs(stockOf),
  ...basicKernelConfigs(stockOf),
].map((config) => {
  const setupFunc = stockOf(config.kernelName)?.setupFunc;
  return setupFunc === undefined ? config : { ...config, setupFunc };
});

let registered = false;

/** Registers Chorus' kernels for backend 'wasm', replacing the stock ones of the same name (idempotent). */
export function registerChorusWasmKernels(): void {
  if (registered) return;
  for (const config of configs) {
    if (getKernel(config.kernelName, 'wasm') !== undefined) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  registerChorusGradients();
  registered = true;
}

/** Puts the stock wasm kernels back (benchmarks and tests compare against them). */
export function unregisterChorusWasmKernels(): void {
  if (!registered) return;
  for (const config of configs) {
    if (getKernel(config.kernelName, 'wasm') !== undefined) unregisterKernel(config.kernelName, 'wasm');
    const original = stock.get(config.kernelName);
    if (original !== undefined) registerKernel(original);
  }
  unregisterChorusGradients();
  registered = false;
}

/** Names of the kernels Chorus registers for 'wasm'. */
export function chorusWasmKernelNames(): string[] {
  return configs.map((c) => c.kernelName);
}

/** The kernel tfjs-backend-wasm itself registers under `kernelName` (undefined where it has none). */
export function stockWasmKernel(kernelName: string): KernelConfig | undefined {
  if (stock.has(kernelName)) return stock.get(kernelName);
  // Chorus' own kernels (no stock counterpart), else whatever is registered.
  return configs.some((c) => c.kernelName === kernelName) ? undefined : getKernel(kernelName, 'wasm');
}
