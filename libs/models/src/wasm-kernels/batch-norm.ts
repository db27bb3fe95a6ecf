/**
 * FusedBatchNorm (inference form y = (x − mean)·scale/√(var+ε) + offset, also what
 * tfjs-layers' BatchNormalization calls in training with the batch moments) for the wasm backend.
 *
 * Identity used: per channel, a = scale/√(var+ε) and b = offset − mean·a (C values, computed here),
 * then y = x·a + b in one SIMD pass (simd.ts; without SIMD, the wasm backend's broadcasting
 * Multiply and Add). The stock kernel takes ~17 ms on a [64,28,28,75] tensor; this ~1.5 ms.
 * (x·a + b rounds differently from (x − mean)·a + offset: agreement with cpu is ~1e-6 relative
 * for BatchNorm's inputs, whose mean is not large against their spread.)
 */
import { FusedBatchNorm, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { alias, f32, release, runWasmKernel } from './backend-ops';
import type { BackendWasm } from './backend-ops';
import { simdKernels } from './simd';

type KernelArgs = Parameters<KernelFunc>[0];

function fusedBatchNorm(stock: KernelConfig | undefined) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { x, mean, variance, offset, scale } = args.inputs;
    const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
    const xi = x as TensorInfo;
    const c = xi.shape[xi.shape.length - 1] ?? 0;
    const perChannel = (t: TensorInfo | undefined): boolean =>
      t === undefined || (t.dtype === 'float32' && util.sizeFromShape(t.shape) === c);
    if (
      xi.dtype !== 'float32' ||
      xi.shape.length === 0 ||
      ![mean, variance].every((t) => t !== undefined && perChannel(t)) ||
      !perChannel(offset) ||
      !perChannel(scale)
    ) {
      if (stock === undefined) throw new Error('FusedBatchNorm: unsupported inputs');
      return stock.kernelFunc(args) as TensorInfo;
    }
    const a = backend.makeOutput([c], 'float32');
    const b = backend.makeOutput([c], 'float32');
    {
      const m = f32(backend, mean as TensorInfo);
      const v = f32(backend, variance as TensorInfo);
      const o = offset === undefined ? null : f32(backend, offset);
      const s = scale === undefined ? null : f32(backend, scale);
      const av = f32(backend, a);
      const bv = f32(backend, b);
      for (let i = 0; i < c; i++) {
        const ai = (s === null ? 1 : (s[i] as number)) / Math.sqrt((v[i] as number) + eps);
        av[i] = ai;
        bv[i] = (o === null ? 0 : (o[i] as number)) - (m[i] as number) * ai;
      }
    }
    const simd = simdKernels(backend);
    if (simd !== null) {
      const y = backend.makeOutput([...xi.shape], 'float32');
      const addr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;
      const rows = util.sizeFromShape(xi.shape) / c;
      simd.scaleShiftRows(addr(xi), addr(y), addr(a), addr(b), rows, 4 * c, 4 * (c & ~3));
      release(backend, a, b);
      return y;
    }
    const t = runWasmKernel(backend, 'Multiply', { a: xi, b: a });
    const y = runWasmKernel(backend, 'Add', { a: t, b });
    release(backend, a, b, t);
    return y;
  };
}

/** Name of Chorus' fused BatchNorm-gradient kernel (registered for 'wasm' only). */
export const BATCH_NORM_GRAD = 'ChorusBatchNormGrad';

/**
 * ChorusBatchNormGrad: inputs x, dy ([…, C]), mean and a ([C]); outputs dx = dy·a,
 * s0 = Σ dy and s1 = Σ dy·(x − mean) over all but the channel axis — what FusedBatchNorm's
 * gradient (gradients.ts) needs, in one SIMD pass over x and dy instead of five full-size ops.
 * Without wasm SIMD it runs those ops.
 */
function batchNormGrad(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const x = args.inputs['x'] as TensorInfo;
  const dy = args.inputs['dy'] as TensorInfo;
  const mean = args.inputs['mean'] as TensorInfo;
  const a = args.inputs['a'] as TensorInfo;
  const c = x.shape[x.shape.length - 1] as number;
  const rows = util.sizeFromShape(x.shape) / c;
  const simd = simdKernels(backend);
  if (simd === null) {
    const x2 = alias(backend, x, [rows, c]);
    const dy2 = alias(backend, dy, [rows, c]);
    const dx = runWasmKernel(backend, 'Multiply', { a: dy, b: a });
    const s0 = runWasmKernel(backend, 'Sum', { x: dy2 }, { axis: [0], keepDims: false });
    const xc = runWasmKernel(backend, 'Sub', { a: x2, b: mean });
    const prod = runWasmKernel(backend, 'Multiply', { a: dy2, b: xc });
    const s1 = runWasmKernel(backend, 'Sum', { x: prod }, { axis: [0], keepDims: false });
    release(backend, x2, dy2, xc, prod);
    return [dx, s0, s1];
  }
  const dx = backend.makeOutput([...x.shape], 'float32');
  const s0 = backend.makeOutput([c], 'float32');
  const s1 = backend.makeOutput([c], 'float32');
  f32(backend, s0).fill(0);
  f32(backend, s1).fill(0);
  const addr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;
  simd.batchNormGradRows(
    addr(x),
    addr(dy),
    addr(dx),
    addr(mean),
    addr(a),
    addr(s0),
    addr(s1),
    rows,
    4 * c,
    4 * (c & ~3),
  );
  return [dx, s0, s1];
}

export function batchNormKernelConfigs(stockOf: (name: string) => KernelConfig | undefined): KernelConfig[] {
  return [
    {
      kernelName: FusedBatchNorm,
      backendName: 'wasm',
      kernelFunc: fusedBatchNorm(stockOf(FusedBatchNorm)) as KernelFunc,
    },
    { kernelName: BATCH_NORM_GRAD, backendName: 'wasm', kernelFunc: batchNormGrad as unknown as KernelFunc },
  ];
}
