/**
 * Direct access to tensor storage on the backends that keep it in this process's memory (`cpu`: JS
 * typed arrays; `wasm`: the module's heap). The training loop uses it to run fused optimizer
 * updates and to read metrics without a kernel per arithmetic operation. Tensors stay immutable:
 * updates write into freshly allocated outputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export interface HostMemory {
  /** Like `compute`, with several outputs. */
  computeMany(
    shapes: number[][],
    inputs: tf.TensorInfo[],
    fill: (outs: Float32Array[], inputs: Float32Array[]) => void,
  ): tf.Tensor[];
  /**
   * Allocates a float32 tensor of `shape` and calls `fill(out, ...inputs)` with views of its storage
   * and of `inputs`' storage (no copies). Views are valid only during `fill`.
   */
  compute(
    shape: number[],
    inputs: tf.TensorInfo[],
    fill: (out: Float32Array, inputs: Float32Array[]) => void,
  ): tf.Tensor;
  /** Calls `read` with a view of `t`'s storage (valid only during the call). */
  read<T>(t: tf.TensorInfo, read: (values: Float32Array) => T): T;
}

function cpuMemory(backend: MathBackendCPU): HostMemory {
  const view = (t: tf.TensorInfo): Float32Array => {
    const v = backend.readSync(t.dataId);
    if (!(v instanceof Float32Array)) throw new Error(`expected float32 storage, got ${t.dtype}`);
    return v;
  };
  const computeMany: HostMemory['computeMany'] = (shapes, inputs, fill) => {
    const outs = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
    fill(outs, inputs.map(view));
    return outs.map((out, i) =>
      tf
        .engine()
        .makeTensorFromTensorInfo(backend.makeTensorInfo(shapes[i] as number[], 'float32', out), backend),
    );
  };
  return {
    computeMany,
    compute: (shape, inputs, fill) =>
      computeMany([shape], inputs, (outs, ins) => fill(outs[0] as Float32Array, ins))[0] as tf.Tensor,
    read: (t, read) => read(view(t)),
  };
}

function wasmMemory(backend: BackendWasm): HostMemory {
  const view = (t: tf.TensorInfo): Float32Array => {
    if (t.dtype !== 'float32') throw new Error(`expected float32 storage, got ${t.dtype}`);
    return backend.typedArrayFromHeap(t) as Float32Array;
  };
  const computeMany: HostMemory['computeMany'] = (shapes, inputs, fill) => {
    const infos = shapes.map((shape) => backend.makeOutput(shape, 'float32'));
    // Views are taken after the allocations: growing the heap detaches earlier views.
    fill(infos.map(view), inputs.map(view));
    return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info, backend));
  };
  return {
    computeMany,
    compute: (shape, inputs, fill) =>
      computeMany([shape], inputs, (outs, ins) => fill(outs[0] as Float32Array, ins))[0] as tf.Tensor,
    read: (t, read) => read(view(t)),
  };
}

/** Host access for the current backend, or null when tensors live elsewhere (libtensorflow, GPU). */
export function hostMemory(): HostMemory | null {
  const name = tf.getBackend();
  if (name === 'cpu') return cpuMemory(tf.backend() as MathBackendCPU);
  if (name === 'wasm') return wasmMemory(tf.backend() as BackendWasm);
  return null;
}
