/**
 * Pooling kernels for the wasm backend: MaxPoolGrad, and AvgPool/AvgPoolGrad for 2×2/2 windows.
 *
 * MaxPoolGrad for the wasm backend, written in JS over the wasm heap (the stock C++ kernel takes
 * ~70 ms for sign-cnn's first pooling layer, [64,28,28,75]).
 *
 * Identity used (the cpu backend's): each pooling window sends its dy to the first position (in
 * row-major window order) holding the window's maximum, found with a strict `>` starting from
 * −∞ — so NaN never wins and a window of NaN/−∞ gets no gradient; overlapping windows add up.
 * When windows do not overlap (stride = window, as in every Chorus model) each dx element
 * belongs to at most one window and is written exactly once; the common 2×2/stride-2 window runs
 * as a hand-assembled wasm SIMD kernel on the heap (simd.ts), 4 channels at a time, branch-free
 * (sign-cnn's first pooling gradient: ~70 ms stock, ~17 ms as a JS loop, a few ms in SIMD).
 */
import { AvgPool, AvgPoolGrad, backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { f32 } from './backend-ops';
import { simdKernels } from './simd';
import type { SimdKernels } from './simd';
import type { BackendWasm } from './backend-ops';

type KernelArgs = Parameters<KernelFunc>[0];

interface PoolGeometry {
  B: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  fh: number;
  fw: number;
  pt: number;
  pl: number;
}

/** Byte addresses of the three tensors on the wasm heap (for the SIMD row kernel). */
interface HeapAddresses {
  x: number;
  dy: number;
  dx: number;
}

/**
 * Disjoint 2×2 windows over a zeroed dx. Rows of windows that lie inside x go to the SIMD row
 * kernel (4 channels at a time, writing all four positions) when there is one; the C mod 4 rest
 * of their channels, windows clipped by the border, and everything without SIMD run here.
 */
function maxPoolGrad2x2(
  g: PoolGeometry,
  xs: Float32Array,
  dys: Float32Array,
  dxs: Float32Array,
  simd: SimdKernels | null,
  heap: HeapAddresses,
): void {
  const { B, H, W, C, OH, OW, sh, sw, pt, pl } = g;
  const rowStride = W * C;
  const c4 = simd !== null && sh === 2 && sw === 2 ? C & ~3 : 0;
  // Windows ow ∈ [owA, owB) lie inside x horizontally.
  let owA = 0;
  while (owA < OW && owA * sw - pl < 0) owA++;
  let owB = OW;
  while (owB > owA && (owB - 1) * sw - pl + 1 >= W) owB--;
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * sh - pt;
      const rowInside = r0 >= 0 && r0 + 1 < H;
      if (rowInside && c4 > 0 && owB > owA && simd !== null) {
        const xi = ((b * H + r0) * W + (owA * sw - pl)) * C;
        const qi = ((b * OH + oh) * OW + owA) * C;
        simd.maxPoolGradRow2x2(
          heap.x + 4 * xi,
          heap.dy + 4 * qi,
          heap.dx + 4 * xi,
          owB - owA,
          4 * C,
          4 * c4,
          4 * rowStride,
        );
      }
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ow * sw - pl;
        const q = ((b * OH + oh) * OW + ow) * C;
        if (rowInside && ow >= owA && ow < owB) {
          const p00 = ((b * H + r0) * W + c0) * C;
          const p01 = p00 + C;
          const p10 = p00 + rowStride;
          const p11 = p10 + C;
          for (let ch = c4; ch < C; ch++) {
            const v0 = xs[p00 + ch] as number;
            const v1 = xs[p01 + ch] as number;
            const v2 = xs[p10 + ch] as number;
            const v3 = xs[p11 + ch] as number;
            // First strict maximum from −∞ (NaN never wins; all-NaN/−∞ windows get nothing).
            let best = v0 > -Infinity ? v0 : -Infinity;
            let at = v0 > -Infinity ? p00 : -1;
            if (v1 > best) {
              best = v1;
              at = p01;
            }
            if (v2 > best) {
              best = v2;
              at = p10;
            }
            if (v3 > best) at = p11;
            if (at >= 0) dxs[at + ch] = dys[q + ch] as number;
          }
        } else {
          windowGrad(g, xs, dys, dxs, b, oh, ow, true);
        }
      }
    }
}

const best = { v: new Float32Array(0), at: new Int32Array(0) };

/** One window, any size; `assign` writes every in-bounds element (non-overlapping windows), else adds. */
function windowGrad(
  g: PoolGeometry,
  xs: Float32Array,
  dys: Float32Array,
  dxs: Float32Array,
  b: number,
  oh: number,
  ow: number,
  assign: boolean,
): void {
  const { H, W, C, OH, OW, sh, sw, fh, fw, pt, pl } = g;
  if (best.v.length < C) {
    best.v = new Float32Array(C);
    best.at = new Int32Array(C);
  }
  const bv = best.v;
  const at = best.at;
  const r0 = Math.max(0, oh * sh - pt);
  const r1 = Math.min(H, oh * sh - pt + fh);
  const c0 = Math.max(0, ow * sw - pl);
  const c1 = Math.min(W, ow * sw - pl + fw);
  bv.fill(-Infinity, 0, C);
  at.fill(-1, 0, C);
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) {
      const base = ((b * H + r) * W + c) * C;
      for (let ch = 0; ch < C; ch++) {
        const v = xs[base + ch] as number;
        if (v > (bv[ch] as number)) {
          bv[ch] = v;
          at[ch] = base + ch;
        }
        if (assign) dxs[base + ch] = 0;
      }
    }
  const q = ((b * OH + oh) * OW + ow) * C;
  for (let ch = 0; ch < C; ch++) {
    const i = at[ch] as number;
    if (i >= 0) dxs[i] = (assign ? 0 : (dxs[i] as number)) + (dys[q + ch] as number);
  }
}

/** The pooling geometry of a pooling kernel's attributes over the NHWC tensor x. */
function poolInfoOf(args: KernelArgs, x: TensorInfo): backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const shape = x.shape as [number, number, number, number];
  return backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad, dimRoundingMode);
}

function maxPoolGrad(stock: KernelConfig | undefined) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const dy = args.inputs['dy'] as TensorInfo;
    const x = args.inputs['input'] as TensorInfo;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape.length !== 4) {
      if (stock === undefined) throw new Error('MaxPoolGrad: float32 NHWC only');
      return stock.kernelFunc(args) as TensorInfo;
    }
    const info = poolInfoOf(args, x);
    const g: PoolGeometry = {
      B: info.batchSize,
      H: info.inHeight,
      W: info.inWidth,
      C: info.inChannels,
      OH: info.outHeight,
      OW: info.outWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
      fh: info.filterHeight,
      fw: info.filterWidth,
      pt: info.padInfo.top,
      pl: info.padInfo.left,
    };
    const dx = backend.makeOutput([...x.shape], 'float32');
    const xs = f32(backend, x);
    const dys = f32(backend, dy);
    const dxs = f32(backend, dx);
    const disjoint = g.sh >= g.fh && g.sw >= g.fw;
    // Elements no window reaches (gaps between windows, or rows/cols past the last window).
    const covered = g.sh === g.fh && g.sw === g.fw && g.OH * g.sh - g.pt >= g.H && g.OW * g.sw - g.pl >= g.W;
    const fast2x2 = disjoint && g.fh === 2 && g.fw === 2;
    if (!disjoint || !covered || fast2x2) dxs.fill(0);
    if (fast2x2) {
      const addr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;
      maxPoolGrad2x2(g, xs, dys, dxs, simdKernels(backend), { x: addr(x), dy: addr(dy), dx: addr(dx) });
    } else {
      for (let b = 0; b < g.B; b++)
        for (let oh = 0; oh < g.OH; oh++)
          for (let ow = 0; ow < g.OW; ow++) windowGrad(g, xs, dys, dxs, b, oh, ow, disjoint);
    }
    return dx;
  };
}

/**
 * The geometry of an average pooling whose windows are disjoint 2×2 with stride 2 and lie inside x
 * (valid padding, and same padding where it adds none, i.e. even H and W), else null. (The cpu
 * backend's AvgPoolGrad divides by the full window size whatever the padding, so only windows
 * inside x agree with it.)
 */
function avgPool2x2Info(args: KernelArgs, x: TensorInfo, other: TensorInfo): backend_util.Conv2DInfo | null {
  if (x.dtype !== 'float32' || other.dtype !== 'float32' || x.shape.length !== 4) return null;
  const info = poolInfoOf(args, x);
  const ok =
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth;
  return ok ? info : null;
}

/** Runs the SIMD 2×2 kernel (forward or gradient) image by image: y/dy is the pooled tensor, x/dx the full one. */
function avgPool2x2Images(
  backend: BackendWasm,
  kernel: SimdKernels['avgPool2x2'],
  pooled: TensorInfo,
  full: TensorInfo,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const addr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;
  const rowBytes = 4 * W * C;
  for (let b = 0; b < B; b++)
    kernel(
      addr(pooled) + 4 * b * OH * OW * C,
      addr(full) + 4 * b * H * W * C,
      OH,
      OW,
      4 * C,
      4 * (C & ~3),
      rowBytes,
      2 * rowBytes - 8 * OW * C,
    );
}

/**
 * AvgPool for disjoint 2×2/2 windows inside x (avgPool2x2Info): one SIMD pass per image,
 * y = (x₀₀ + x₀₁ + x₁₀ + x₁₁)/4 (LeNet-5's [64,28,28,6]: ~0.1 ms against the stock XNNPACK
 * kernel's ~0.2 ms). Stock for everything else and without SIMD.
 */
function avgPool(stock: KernelConfig | undefined) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const info = avgPool2x2Info(args, x, x);
    const simd = simdKernels(backend);
    if (info === null || simd === null) {
      if (stock === undefined) throw new Error('AvgPool: no stock kernel to fall back to');
      return stock.kernelFunc(args) as TensorInfo;
    }
    const y = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.inChannels], 'float32');
    avgPool2x2Images(backend, simd.avgPool2x2, y, x, info);
    return y;
  };
}

/**
 * AvgPoolGrad for disjoint 2×2/2 windows inside x (avgPool2x2Info): each window's dy/4 goes to its
 * four positions, the row and column an odd H or W leaves uncovered get 0. One SIMD pass per
 * image (simd.ts), or a JS loop without wasm SIMD. Everything else goes to the stock kernel.
 */
function avgPoolGrad(stock: KernelConfig | undefined) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as BackendWasm;
    const dy = args.inputs['dy'] as TensorInfo;
    const x = args.inputs['input'] as TensorInfo;
    const info = avgPool2x2Info(args, x, dy);
    if (info === null) {
      if (stock === undefined) throw new Error('AvgPoolGrad: no stock kernel to fall back to');
      return stock.kernelFunc(args) as TensorInfo;
    }
    const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const dx = backend.makeOutput([...x.shape], 'float32');
    const dxs = f32(backend, dx);
    if (2 * OH !== H || 2 * OW !== W) dxs.fill(0);
    const simd = simdKernels(backend);
    if (simd !== null) {
      avgPool2x2Images(backend, simd.avgPoolGrad2x2, dy, dx, info);
      return dx;
    }
    const dys = f32(backend, dy);
    for (let b = 0; b < B; b++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const q = ((b * OH + oh) * OW + ow) * C;
          const p00 = ((b * H + 2 * oh) * W + 2 * ow) * C;
          const p10 = p00 + W * C;
          for (let ch = 0; ch < C; ch++) {
            const v = (dys[q + ch] as number) * 0.25;
            dxs[p00 + ch] = v;
            dxs[p00 + C + ch] = v;
            dxs[p10 + ch] = v;
            dxs[p10 + C + ch] = v;
          }
        }
    return dx;
  };
}

export function poolingGradKernelConfigs(
  stockOf: (name: string) => KernelConfig | undefined,
): KernelConfig[] {
  return [
    {
      kernelName: MaxPoolGrad,
      backendName: 'wasm',
      kernelFunc: maxPoolGrad(stockOf(MaxPoolGrad)) as KernelFunc,
    },
    {
      kernelName: AvgPool,
      backendName: 'wasm',
      kernelFunc: avgPool(stockOf(AvgPool)) as KernelFunc,
    },
    {
      kernelName: AvgPoolGrad,
      backendName: 'wasm',
      kernelFunc: avgPoolGrad(stockOf(AvgPoolGrad)) as KernelFunc,
    },
  ];
}
