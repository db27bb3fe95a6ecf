import * as tf from '@tensorflow/tfjs-core';

/** What the active tfjs backend says of its memory (a worker's metrics). */
export interface BackendMemory {
  /** Live tensors. */
  tensors: number;
  /** Bytes of the live tensors' data, wherever they live. */
  tensorBytes: number;
  /** Bytes on the GPU, when the backend reports them (webgl/webgpu's `numBytesInGPU`); else undefined. */
  deviceBytes: number | undefined;
}

export function backendMemory(): BackendMemory {
  const info = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return {
    tensors: info.numTensors,
    tensorBytes: info.numBytes,
    deviceBytes: typeof info.numBytesInGPU === 'number' ? info.numBytesInGPU : undefined,
  };
}
