/**
 * Small helpers for writing wasm kernels out of the wasm backend's own kernels.
 *
 * Inside a kernel we call other wasm kernels' `kernelFunc`s directly (no engine, no tape, no
 * Tensor objects): their results are bare `TensorInfo`s whose buffers we own and must release
 * with `backend.disposeData`. A TensorInfo we build around someone else's buffer (a reshape, a
 * view) must `backend.incRef` that buffer first, or disposing ours frees theirs.
 */
import { getKernel, util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** Runs the wasm backend's registered kernel `name` on TensorInfos; the caller owns the result. */
export function runWasmKernel(
  backend: BackendWasm,
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const config = getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out;
}

/** Releases TensorInfos this kernel created. */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A reshaped alias of `x` that shares (and references) its buffer. */
export function alias(backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  util.assert(
    util.sizeFromShape(shape) === util.sizeFromShape(x.shape),
    () => `alias: bad shape ${shape} for ${x.shape}`,
  );
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** Float32 view of a tensor's bytes on the wasm heap. Re-take it after any allocation (the heap may grow). */
export function f32(backend: BackendWasm, x: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(x) as Float32Array;
}

/** The whole wasm heap as bytes (for block copies between tensors, and bounds). Re-take it after any allocation. */
export function heapBytes(backend: BackendWasm): Uint8Array {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
}
