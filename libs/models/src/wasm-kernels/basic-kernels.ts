/**
 * Replacements for stock wasm kernels that a convnet training step calls and that are slow in
 * tfjs-backend-wasm 4.22 for the shapes training produces (measured in bench/kernels.bench.ts).
 * Each one either handles the common case itself or hands back to the stock kernel.
 */
import { backend_util, BatchMatMul, Cast, Identity, Mean, Sum, Tile, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { alias, release, runWasmKernel } from './backend-ops';
import type { BackendWasm } from './backend-ops';

type KernelArgs = Parameters<KernelFunc>[0];
type Stock = KernelConfig | undefined;

function callStock(stock: Stock, name: string, args: KernelArgs): TensorInfo {
  if (stock === undefined) throw new Error(`no stock wasm kernel ${name} to fall back to`);
  return stock.kernelFunc(args) as TensorInfo;
}

/**
 * Identity shares the input's buffer (reference-counted) instead of copying it, as the cpu backend
 * does; the stock wasm Identity copies every tensor, and the optimizers call it for every weight.
 */
function identity(stock: Stock) {
  return (args: KernelArgs): TensorInfo => {
    const x = args.inputs['x'] as TensorInfo;
    if (x.dtype === 'string') return callStock(stock, Identity, args);
    return alias(args.backend as BackendWasm, x, [...x.shape]);
  };
}

/**
 * Cast to the dtype the tensor already has shares its buffer (as on the cpu backend) instead of
 * copying it; ReLU's gradient and tf.moments cast float32 activations to float32 on every step.
 * Casts to bool compute x ≠ 0 (the stock kernel copies the numbers, so 2 stayed 2).
 */
function cast(stock: Stock) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const { dtype } = args.attrs as { dtype: string };
    if (x.dtype === 'string' || dtype === 'string' || dtype === 'complex64')
      return callStock(stock, Cast, args);
    if (dtype === x.dtype) return alias(backend, x, [...x.shape]);
    if (dtype === 'bool') {
      const out = backend.makeOutput([...x.shape], 'bool');
      const src = backend.typedArrayFromHeap(x);
      const dst = backend.typedArrayFromHeap(out);
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    return callStock(stock, Cast, args);
  };
}

/**
 * Tile by block copies: each axis (innermost first) is laid down once and then doubled with
 * `copyWithin` until it is repeated `reps` times. The stock kernel takes ~0.2–0.45 s to tile a [75]
 * vector to [64,28,28,75], which BatchNorm's gradient does for every BatchNorm layer.
 */
function tile(stock: Stock) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const reps = (args.attrs as { reps: number[] }).reps;
    if (x.dtype === 'string' || x.shape.length === 0) return callStock(stock, Tile, args);
    const rank = x.shape.length;
    const inShape = x.shape;
    const outShape = inShape.map((d, i) => d * (reps[i] as number));
    const out = backend.makeOutput(outShape, x.dtype);
    if (util.sizeFromShape(outShape) === 0) return out;
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const inStrides = util.computeStrides(inShape);
    // outBlock[d] = elements of the output spanned by one index of axes < d (i.e. prod outShape[d..]).
    const outBlock = new Array<number>(rank + 1).fill(1);
    for (let d = rank - 1; d >= 0; d--) outBlock[d] = (outBlock[d + 1] as number) * (outShape[d] as number);
    const fill = (d: number, srcBase: number, dstBase: number): void => {
      const n = inShape[d] as number;
      let len: number;
      if (d === rank - 1) {
        dst.set(src.subarray(srcBase, srcBase + n), dstBase);
        len = n;
      } else {
        const stride = inStrides[d] as number;
        const block = outBlock[d + 1] as number;
        for (let i = 0; i < n; i++) fill(d + 1, srcBase + i * stride, dstBase + i * block);
        len = n * block;
      }
      const total = len * (reps[d] as number);
      for (let have = len; have < total; have *= 2)
        dst.copyWithin(dstBase + have, dstBase, dstBase + Math.min(have, total - have));
    };
    fill(0, 0, 0);
    return out;
  };
}

/** Normalised, sorted reduction axes; null unless they are the leading axes 0..k−1. */
function leadingAxes(axis: number | number[], rank: number): number[] | null {
  const axes = util.parseAxisParam(axis, new Array<number>(rank).fill(1)).sort((a, b) => a - b);
  return axes.every((a, i) => a === i) ? axes : null;
}

/**
 * Sum / Mean over the leading axes as one XNNPACK average pooling: x viewed as [1, N, 1, C]
 * (N = product of the reduced axes) pooled by an [N, 1] window gives the per-channel mean; the sum
 * is that times N (C values, scaled here). The stock kernels first transpose the reduced axes
 * innermost (~15 ms per [64,28,28,75] tensor); bias and BatchNorm gradients reduce exactly this
 * way. (A ones·x matmul is no good: XNNPACK re-packs its right operand, x, on every call.)
 */
function reduceLeading(kind: 'Sum' | 'Mean', stock: Stock) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = rank > 0 ? leadingAxes(axis, rank) : null;
    if (x.dtype !== 'float32' || axes === null || axes.length === 0 || util.sizeFromShape(x.shape) === 0)
      return callStock(stock, kind, args);
    const n = util.sizeFromShape(x.shape.slice(0, axes.length));
    const c = util.sizeFromShape(x.shape.slice(axes.length));
    const x4 = alias(backend, x, [1, n, 1, c]);
    const mean = runWasmKernel(backend, 'AvgPool', { x: x4 }, {
      filterSize: [n, 1],
      strides: [n, 1],
      pad: 'valid',
    } as unknown as NamedAttrMap);
    release(backend, x4);
    if (kind === 'Sum') {
      const v = backend.typedArrayFromHeap(mean) as Float32Array;
      for (let i = 0; i < c; i++) v[i] = (v[i] as number) * n;
    }
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return { dataId: mean.dataId, shape, dtype: 'float32' };
  };
}

/**
 * BatchMatMul with transposeA/transposeB: transpose the operand explicitly (a cheap copy) and run
 * the stock kernel untransposed. The stock kernel's transposed paths run ~15–35× slower (a Dense
 * layer's weight gradient aᵀ·dy of [64,400]ᵀ·[64,512] took 37 ms vs 1 ms).
 */
function batchMatMul(stock: Stock) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    let a = args.inputs['a'] as TensorInfo;
    let b = args.inputs['b'] as TensorInfo;
    if ((!attrs.transposeA && !attrs.transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32')
      return callStock(stock, BatchMatMul, args);
    const owned: TensorInfo[] = [];
    const swapLast2 = (t: TensorInfo): TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      const out = runWasmKernel(backend, 'Transpose', { x: t }, { perm } as unknown as NamedAttrMap);
      owned.push(out);
      return out;
    };
    if (attrs.transposeA) a = swapLast2(a);
    if (attrs.transposeB) b = swapLast2(b);
    const out = callStock(stock, BatchMatMul, {
      ...args,
      inputs: { a, b },
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
    release(backend, ...owned);
    return out;
  };
}

export function basicKernelConfigs(stockOf: (name: string) => Stock): KernelConfig[] {
  const k = (kernelName: string, make: (stock: Stock) => (args: KernelArgs) => TensorInfo): KernelConfig => ({
    kernelName,
    backendName: 'wasm',
    kernelFunc: make(stockOf(kernelName)) as KernelFunc,
  });
  return [
    k(Identity, identity),
    k(Cast, cast),
    k(Tile, tile),
    k(Sum, (s) => reduceLeading('Sum', s)),
    k(Mean, (s) => reduceLeading('Mean', s)),
    k(BatchMatMul, batchMatMul),
  ];
}
