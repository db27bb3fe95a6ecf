/**
 * Conv2D's two gradients for the wasm backend, each re-expressed as the wasm backend's own
 * Conv2D (XNNPACK) or BatchMatMul over re-arranged tensors, with hand-assembled SIMD passes
 * (simd.ts) where those are slow: the whole filter gradient of a one-channel input with ≤ 8 output
 * channels (LeNet-5's first layer), and the col2im after the product of a valid stride-1 layer's
 * input gradient.
 *
 * Notation (NHWC, filter HWIO): x [B,H,W,Ci], filter [KH,KW,Ci,Co], dy [B,OH,OW,Co], stride s,
 * padding pt/pl, and xp = x zero-padded by pt/pl:
 *   y[b,oh,ow,co] = Σ_{kh,kw,ci} xp[b, oh·s+kh, ow·s+kw, ci] · w[kh,kw,ci,co]
 */
import { backend_util, Conv2DBackpropFilter, Conv2DBackpropInput, util } from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { alias, f32, heapBytes, release, runWasmKernel } from './backend-ops';
import type { BackendWasm } from './backend-ops';
import { simdKernels } from './simd';
import type { SimdKernels } from './simd';

type Args<A> = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs?: unknown } & {
  attrs?: A;
};

function convInfoOf(
  inShape: number[],
  filterShape: number[],
  attrs: Pick<Conv2DBackpropInputAttrs, 'strides' | 'pad' | 'dimRoundingMode'>,
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * dx for a stride-1 convolution without padding ("valid"), as columns then col2im:
 *   dcol[n, (kh,kw,ci)] = Σ_co dy[n, co] · w[kh,kw,ci,co]     (n = (b,oh,ow); one BatchMatMul)
 *   dx[b, oh+kh, ow+kw, ci] += dcol[n, (kh,kw,ci)]            (a SIMD pass, simd.ts col2im)
 * Its products cover only the B·OH·OW output pixels, where the convolution form below covers all
 * B·H·W input pixels of a zero-padded dy (LeNet-5's conv2: 6,400 against 12,544).
 */
function inputGradByCol2im(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  simd: SimdKernels,
): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW } = info;
  const L = KH * KW * Ci;
  const N = B * OH * OW;
  // wᵀ: [Co, (kh,kw,ci)] (small).
  const wt = backend.makeOutput([1, Co, L], 'float32');
  {
    const src = f32(backend, filter);
    const dst = f32(backend, wt);
    for (let k = 0; k < L; k++) for (let co = 0; co < Co; co++) dst[co * L + k] = src[k * Co + co] as number;
  }
  const dy3 = alias(backend, dy, [1, N, Co]);
  const dcol = runWasmKernel(
    backend,
    'BatchMatMul',
    { a: dy3, b: wt },
    { transposeA: false, transposeB: false },
  );
  release(backend, wt, dy3);
  const dx = backend.makeOutput([B, H, W, Ci], 'float32');
  f32(backend, dx).fill(0);
  const addr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;
  const seg = KW * Ci;
  simd.col2im(
    addr(dcol),
    addr(dx),
    B,
    OH,
    OW,
    KH,
    4 * seg,
    4 * (seg & ~3),
    4 * W * Ci,
    4 * Ci,
    4 * (H - OH) * W * Ci,
  );
  release(backend, dcol);
  return dx;
}

/**
 * Up to this many input channels, a valid stride-1 Conv2DBackpropInput uses columns + col2im
 * (faster on both layers measured: lenet5 conv2, Ci = 6, and small-cnn conv2, Ci = 32; the
 * columns grow with Ci, so larger layers keep the convolution form until measured).
 */
export const COL2IM_MAX_IN_CHANNELS = 32;

/**
 * dx = conv2d(dy↑s, flip(w)ᵀ): the input gradient is a stride-1 convolution of dy (with s−1 zeros
 * inserted between its pixels when s > 1) with the filter flipped in space and with its channel
 * axes swapped ([KH,KW,Co,Ci]), padded by KH−1−pt on top and KW−1−pl on the left:
 *   dx[b,i,j,ci] = Σ_{kh',kw',co} dy↑[b, i+kh', j+kw', co] · w[KH−1−kh', KW−1−kw', ci, co].
 * For s = 1 the padding is XNNPACK's (free); otherwise the zero-inserted, padded dy is built here.
 */
export function conv2DBackpropInputWasm(
  args: Args<Conv2DBackpropInputAttrs>,
  stock?: KernelFunc,
): TensorInfo {
  const backend = args.backend as BackendWasm;
  const dy = args.inputs['dy'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const attrs = args.attrs as Conv2DBackpropInputAttrs;
  if (attrs.dataFormat === 'NCHW') {
    if (stock === undefined) throw new Error('Chorus wasm Conv2DBackpropInput supports NHWC only');
    return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  const info = convInfoOf(attrs.inputShape, filter.shape, attrs);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: sh,
    strideWidth: sw,
    outHeight: OH,
    outWidth: OW,
  } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const simd = simdKernels(backend);
  if (
    simd !== null &&
    sh === 1 &&
    sw === 1 &&
    pt === 0 &&
    pl === 0 &&
    OH + KH - 1 === H &&
    OW + KW - 1 === W &&
    Ci <= COL2IM_MAX_IN_CHANNELS &&
    dy.dtype === 'float32' &&
    filter.dtype === 'float32'
  )
    return inputGradByCol2im(backend, dy, filter, info, simd);

  // Flipped, channel-swapped filter (small: a JS loop over the heap).
  const wf = backend.makeOutput([KH, KW, Co, Ci], 'float32');
  {
    const src = f32(backend, filter);
    const dst = f32(backend, wf);
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++) {
        const s0 = (kh * KW + kw) * Ci * Co;
        const d0 = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++)
          for (let co = 0; co < Co; co++) dst[d0 + co * Ci + ci] = src[s0 + ci * Co + co] as number;
      }
  }

  const top = KH - 1 - pt;
  const left = KW - 1 - pl;
  const bottom = H + pt - ((OH - 1) * sh + 1);
  const right = W + pl - ((OW - 1) * sw + 1);
  let src: TensorInfo = dy;
  let pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  const plain = sh === 1 && sw === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0;
  if (!plain) {
    // dy↑ with its padding made explicit: [B, H+KH−1, W+KW−1, Co], dy[b,oh,ow] at (oh·s+top, ow·s+left).
    const HP = H + KH - 1;
    const WP = W + KW - 1;
    const up = backend.makeOutput([B, HP, WP, Co], 'float32');
    const d = f32(backend, up);
    const s = f32(backend, dy);
    d.fill(0);
    for (let b = 0; b < B; b++)
      for (let oh = 0; oh < OH; oh++) {
        const r = oh * sh + top;
        if (r < 0 || r >= HP) continue;
        for (let ow = 0; ow < OW; ow++) {
          const c = ow * sw + left;
          if (c < 0 || c >= WP) continue;
          const si = ((b * OH + oh) * OW + ow) * Co;
          d.set(s.subarray(si, si + Co), ((b * HP + r) * WP + c) * Co);
        }
      }
    src = up;
    pad = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
  }
  const dx = runWasmKernel(backend, 'Conv2D', { x: src, filter: wf }, {
    strides: [1, 1],
    pad,
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  release(backend, wf);
  if (src !== dy) release(backend, src);
  return dx;
}

/**
 * dW = conv2d over the batch: with the batch as the contraction ("channel") axis,
 *   dW[kh,kw,ci,co] = Σ_{oh,ow,b} xᵀ[ci, kh+oh·s, kw+ow·s, b] · dyᵀ[oh, ow, b, co],
 * i.e. a convolution of xᵀ = x as [Ci,H,W,B] (Ci images of B channels) with the filter
 * dyᵀ = dy as [OH,OW,B,Co], dilated by s, padded by pt/pl, giving [Ci,KH,KW,Co] → [KH,KW,Ci,Co].
 */
function filterGradByConv(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: sh,
    strideWidth: sw,
    outHeight: OH,
    outWidth: OW,
  } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Rows/cols of x past the last one any filter tap reaches are dropped (valid padding with s > 1).
  const Hc = Math.min(H, KH + (OH - 1) * sh - pt);
  const Wc = Math.min(W, KW + (OW - 1) * sw - pl);
  const pb = KH + (OH - 1) * sh - pt - Hc;
  const pr = KW + (OW - 1) * sw - pl - Wc;

  // xᵀ and dyᵀ with the wasm Transpose kernel (dyᵀ only moves whole Co-runs, i.e. is cheap).
  let xt: TensorInfo;
  if (Hc === H && Wc === W) {
    xt = runWasmKernel(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] } as unknown as NamedAttrMap);
  } else {
    xt = backend.makeOutput([Ci, Hc, Wc, B], 'float32');
    const xs = f32(backend, x);
    const xd = f32(backend, xt);
    const plane = Hc * Wc * B;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hc; h++)
        for (let w = 0; w < Wc; w++) {
          const si = ((b * H + h) * W + w) * Ci;
          const di = (h * Wc + w) * B + b;
          for (let ci = 0; ci < Ci; ci++) xd[di + ci * plane] = xs[si + ci] as number;
        }
  }
  const dyt = runWasmKernel(backend, 'Transpose', { x: dy }, {
    perm: [1, 2, 0, 3],
  } as unknown as NamedAttrMap);
  const dwt = runWasmKernel(backend, 'Conv2D', { x: xt, filter: dyt }, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [sh, sw],
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  release(backend, xt, dyt);
  // [Ci,KH,KW,Co] → [KH,KW,Ci,Co]: small, moves whole Co-runs.
  const dw = runWasmKernel(backend, 'Transpose', { x: dwt }, {
    perm: [1, 2, 0, 3],
  } as unknown as NamedAttrMap);
  release(backend, dwt);
  return dw;
}

/**
 * Fills pt (K rows of N = B·OH·OW) with the im2col of x, transposed: row k = (kh,kw,ci) holds
 * xp[b, oh·s+kh, ow·s+kw, ci] for every n = (b,oh,ow) — x shifted, so each (row, b, oh) is one run
 * of OW values copied from x with its out-of-range ends zeroed (no per-element branches). With
 * stride 1 and Ci = 1 a run is contiguous in x and moves as one `copyWithin` on `heap` (a
 * Float32Array over the whole wasm heap): ~4× faster than an element loop.
 */
function im2colT(
  xs: Float32Array,
  pv: Float32Array,
  info: backend_util.Conv2DInfo,
  heap: Float32Array | null,
): void {
  const xOff = xs.byteOffset >> 2;
  const pOff = pv.byteOffset >> 2;
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { outHeight: OH, outWidth: OW } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const N = B * OH * OW;
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++) {
      // Columns ow ∈ [lo, hi) read inside x: 0 ≤ ow·sw + kw − pl < W.
      const lo = Math.min(OW, Math.max(0, Math.ceil((pl - kw) / sw)));
      const hi = Math.max(lo, Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1));
      for (let ci = 0; ci < Ci; ci++) {
        let d = ((kh * KW + kw) * Ci + ci) * N;
        for (let b = 0; b < B; b++)
          for (let oh = 0; oh < OH; oh++, d += OW) {
            const r = oh * sh + kh - pt;
            if (r < 0 || r >= H) {
              pv.fill(0, d, d + OW);
              continue;
            }
            for (let ow = 0; ow < lo; ow++) pv[d + ow] = 0;
            const step = sw * Ci;
            let si = ((b * H + r) * W + (lo * sw + kw - pl)) * Ci + ci;
            if (heap !== null && step === 1) heap.copyWithin(pOff + d + lo, xOff + si, xOff + si + hi - lo);
            else for (let ow = lo; ow < hi; ow++, si += step) pv[d + ow] = xs[si] as number;
            for (let ow = hi; ow < OW; ow++) pv[d + ow] = 0;
          }
      }
    }
}

/**
 * dW as one matrix product, for inputs with few channels (a network's first layer):
 *   dW[(kh,kw,ci), co] = Σ_n Pᵀ[(kh,kw,ci), n] · dy[n, co],   n = (b,oh,ow),
 * with Pᵀ the transposed im2col of x (KH·KW·Ci rows of B·OH·OW, built row by row by im2colT)
 * and dy as it is, [N, Co], the packed operand of the wasm BatchMatMul (XNNPACK fully-connected).
 * The result is already HWIO: no transposes at all.
 */
function filterGradByGemm(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: B, inChannels: Ci, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW } = info;
  const K = KH * KW * Ci;
  const N = B * OH * OW;
  const p = backend.makeOutput([1, K, N], 'float32');
  im2colT(f32(backend, x), f32(backend, p), info, new Float32Array(heapBytes(backend).buffer));
  const dy3 = alias(backend, dy, [1, N, Co]);
  const prod = runWasmKernel(
    backend,
    'BatchMatMul',
    { a: p, b: dy3 },
    { transposeA: false, transposeB: false },
  );
  release(backend, p, dy3);
  return { dataId: prod.dataId, shape: [KH, KW, Ci, Co], dtype: 'float32' };
}

/**
 * dW for one input channel, stride 1 and at most 8 output channels (LeNet-5's first layer), as a
 * hand-assembled SIMD kernel (simd.ts, filterGrad5x8) with no im2col at all:
 *   dW[kh,kw,0,co] = Σ_{b,oh,ow} xp[b, oh+kh, ow+kw] · dy[b,oh,ow,co],
 * xp being x zero-padded to [B, OH+KH−1, OW+KW−1] (small: one channel). Five taps per pass over dy,
 * each a fixed offset from the current xp pixel, times the 8 lanes of the dy pixel, into ten
 * vector accumulators.
 */
function filterGradBySimd(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  simd: SimdKernels,
): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const HP = OH + KH - 1;
  const WP = OW + KW - 1;
  const xp = backend.makeOutput([B, HP, WP], 'float32');
  const K = KH * KW;
  const blocks = Math.ceil(K / 5);
  const out = backend.makeOutput([blocks * 40], 'float32');
  const addr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;
  {
    const heap = new Float32Array(heapBytes(backend).buffer);
    const x0 = addr(x) >> 2;
    const p0 = addr(xp) >> 2;
    heap.fill(0, p0, p0 + B * HP * WP);
    // Columns j of xp with 0 ≤ j − pl < W.
    const j0 = Math.max(0, pl);
    const j1 = Math.min(WP, W + pl);
    if (j1 > j0)
      for (let b = 0; b < B; b++)
        for (let i = Math.max(0, pt); i < Math.min(HP, H + pt); i++) {
          const src = x0 + (b * H + i - pt) * W + (j0 - pl);
          heap.copyWithin(p0 + (b * HP + i) * WP + j0, src, src + j1 - j0);
        }
  }
  const offs = Array.from({ length: blocks * 5 }, (_, k) =>
    k < K ? 4 * (Math.floor(k / KW) * WP + (k % KW)) : 0,
  );
  for (let blk = 0; blk < blocks; blk++) {
    const o = offs.slice(blk * 5, blk * 5 + 5) as [number, number, number, number, number];
    simd.filterGrad5x8(
      addr(xp),
      addr(dy),
      addr(out) + blk * 160,
      B,
      OH,
      OW,
      4 * (WP - OW),
      4 * (HP - OH) * WP,
      4 * Co,
      ...o,
    );
  }
  release(backend, xp);
  const dw = backend.makeOutput([KH, KW, 1, Co], 'float32');
  const os = f32(backend, out);
  const ws = f32(backend, dw);
  for (let k = 0; k < K; k++) for (let co = 0; co < Co; co++) ws[k * Co + co] = os[k * 8 + co] as number;
  release(backend, out);
  return dw;
}

export function conv2DBackpropFilterWasm(args: Args<Conv2DBackpropFilterAttrs>): TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = args.inputs['x'] as TensorInfo;
  const dy = args.inputs['dy'] as TensorInfo;
  const attrs = args.attrs as Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW') throw new Error('Chorus wasm Conv2DBackpropFilter supports NHWC only');
  const info = convInfoOf(x.shape, attrs.filterShape, attrs);
  // One input channel, stride 1, ≤ 8 output channels: the SIMD kernel (lenet5 conv1: 1.5 ms against
  // 3.1 ms for the product below). Pᵀ costs KH·KW·Ci·N JS writes (block copies for Ci = 1) and packs dy; the convolution form
  // packs dy too but also transposes x and dy. Few input channels favour the product (lenet5's
  // conv2, Ci = 6: 1.5 ms as a convolution, 3.1 ms as the product).
  const simd = simdKernels(backend);
  if (
    simd !== null &&
    info.inChannels === 1 &&
    info.outChannels <= 8 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    // The kernel reads 8 channels from every dy pixel: up to 28 bytes past dy's end must be heap.
    (backend.dataIdMap.get(dy.dataId)?.memoryOffset as number) + 4 * util.sizeFromShape(dy.shape) + 32 <=
      heapBytes(backend).byteLength
  )
    return filterGradBySimd(backend, x, dy, info, simd);
  return info.inChannels <= GEMM_MAX_IN_CHANNELS
    ? filterGradByGemm(backend, x, dy, info)
    : filterGradByConv(backend, x, dy, info);
}

/** Up to this many input channels, Conv2DBackpropFilter uses the im2col product (measured on sign-cnn/lenet5: Ci = 6 is faster as a convolution). */
export const GEMM_MAX_IN_CHANNELS = 4;

export function conv2DGradKernelConfigs(stockInput: KernelConfig | undefined): KernelConfig[] {
  return [
    {
      kernelName: Conv2DBackpropInput,
      backendName: 'wasm',
      kernelFunc: ((args: Args<Conv2DBackpropInputAttrs>) =>
        conv2DBackpropInputWasm(args, stockInput?.kernelFunc)) as unknown as KernelFunc,
    },
    {
      kernelName: Conv2DBackpropFilter,
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
    },
  ];
}
