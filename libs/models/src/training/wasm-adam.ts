/**
 * Adam for the wasm backend as a 4-lane SIMD loop in a tiny WebAssembly module that shares the tfjs
 * backend's memory, so it reads parameters and gradients and writes the new parameters where the
 * tensors live. The moments are plain allocations in that heap. One call per variable replaces
 * tfjs Adam's ~12 kernels per variable, and runs ~8× faster than the same loop in JS: for the
 * Fashion DNN (1.2 M parameters) the update drops from ~8 ms to ~1 ms a step.
 *
 * The module is assembled here byte by byte (there is no wasm toolchain in the build): its single
 * function is `adam(out, p, g, m, v, bytes, b1, b2, 1−b1, 1−b2, lr/(1−b1^t), 1/(1−b2^t), eps)`,
 * processing `bytes` (a multiple of 16) of float32 data:
 *   m ← b1·m + (1−b1)·g;  v ← b2·v + (1−b2)·g²;  out ← p − lr·m̂ / (√v̂ + eps)
 * exactly tfjs' AdamOptimizer arithmetic (bias-corrected moments, epsilon outside the root), in f32.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { F32, I32, section, str, uleb, V128, vec } from '../wasm-encoder';
import type { AdamSettings } from './optimizer';
import { checkState } from './updater-state';
import type { Updater, UpdaterState } from './updater-state';
import { yieldToEventLoop } from '../yield';

/** The parts of the Emscripten module of tfjs-backend-wasm this file uses. */
interface WasmModule {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPF32: Float32Array;
  asm?: { memory?: unknown };
}

type AdamFn = (
  out: number,
  p: number,
  g: number,
  m: number,
  v: number,
  bytes: number,
  b1: number,
  b2: number,
  d1: number,
  d2: number,
  lrc1: number,
  c2: number,
  eps: number,
) => void;

const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const load = [...simd(0x00), 0x02, 0x00]; // v128.load align=4 offset=0
const store = [...simd(0x0b), 0x02, 0x00]; // v128.store
const splat = simd(0x13); // f32x4.splat
const sqrt = simd(0xe3);
const add = simd(0xe4);
const sub = simd(0xe5);
const mul = simd(0xe6);
const div = simd(0xe7);
const i32add = [0x6a];

/** The module's bytes (exported for the test that validates them). */
export function adamModuleBytes(): Uint8Array {
  // params: 0 out, 1 p, 2 g, 3 m, 4 v, 5 bytes (i32); 6 b1, 7 b2, 8 d1, 9 d2, 10 lrc1, 11 c2, 12 eps (f32)
  // locals: 13 i (i32); 14..20 splats of params 6..12; 21 g, 22 m, 23 v (v128)
  const at = (base: number): number[] => [...get(base), ...get(13), ...i32add];
  const BLOCK = [0x02, 0x40];
  const LOOP = [0x03, 0x40];
  const END = [0x0b];
  const BREAK_IF_I_GE_BYTES = [...get(13), ...get(5), 0x4f /* i32.ge_u */, 0x0d, 0x01 /* br_if 1 */];
  const NEXT = [...get(13), 0x41, 0x10 /* i32.const 16 */, ...i32add, ...set(13), 0x0c, 0x00 /* br 0 */];
  // prettier-ignore
  const body = [
    ...[6, 7, 8, 9, 10, 11, 12].flatMap((p) => [...get(p), ...splat, ...set(p + 8)]),
    ...BLOCK, ...LOOP, ...BREAK_IF_I_GE_BYTES,
    ...at(2), ...load, ...set(21), // g
    ...get(14), ...at(3), ...load, ...mul, ...get(16), ...get(21), ...mul, ...add, ...set(22), // m
    ...get(15), ...at(4), ...load, ...mul, ...get(17), ...get(21), ...get(21), ...mul, ...mul, ...add, ...set(23), // v
    ...at(3), ...get(22), ...store,
    ...at(4), ...get(23), ...store,
    ...at(0), // address of out
    ...at(1), ...load, // p
    ...get(18), ...get(22), ...mul, // lr·m̂
    ...get(23), ...get(19), ...mul, ...sqrt, ...get(20), ...add, // √v̂ + eps
    ...div, ...sub, ...store,
    ...NEXT, ...END, ...END, ...END,
  ];
  const code = [
    ...vec([
      [1, I32],
      [10, V128],
    ]),
    ...body,
  ];
  const params = [I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32];
  // prettier-ignore
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec([[0x60, ...vec(params.map((t) => [t])), 0x00]])), // type: (params) → ()
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])), // import memory {min 1}
    ...section(3, vec([[0x00]])), // function 0 has type 0
    ...section(7, vec([[...str('adam'), 0x00, 0x00]])), // export "adam" = function 0
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

/** The WebAssembly API (the typings in use, ES2023 without DOM, do not declare it). */
interface WasmMemory {
  buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const compiled = new WeakMap<WasmMemory, AdamFn>();

function adamFor(module: WasmModule): AdamFn | null {
  const memory = module.asm?.memory;
  if (!(memory instanceof wasmApi.Memory) || !(memory.buffer instanceof ArrayBuffer)) return null;
  let fn = compiled.get(memory);
  if (fn === undefined) {
    try {
      const instance = new wasmApi.Instance(new wasmApi.Module(adamModuleBytes()), {
        env: { memory },
      });
      fn = instance.exports['adam'] as AdamFn;
    } catch {
      return null; // no SIMD: callers fall back to the JS loop
    }
    compiled.set(memory, fn);
  }
  return fn;
}

const freeMoments = new FinalizationRegistry<{ module: WasmModule; pointers: number[] }>(
  ({ module, pointers }) => {
    for (const p of pointers) module._free(p);
  },
);

/** Adam on the wasm backend through the SIMD module; null where the module cannot run. */
export class WasmAdam implements Updater {
  private readonly moments = new Map<tf.Variable, { m: number; v: number }>();
  private readonly pointers: number[] = [];
  private t = 0;

  private constructor(
    private readonly settings: AdamSettings,
    private readonly backend: BackendWasm,
    private readonly module: WasmModule,
    private readonly adam: AdamFn,
  ) {
    freeMoments.register(this, { module, pointers: this.pointers });
  }

  static create(settings: AdamSettings, backend: BackendWasm): WasmAdam | null {
    const module = backend.wasm as unknown as WasmModule;
    const adam = adamFor(module);
    return adam === null ? null : new WasmAdam(settings, backend, module, adam);
  }

  private momentsOf(variable: tf.Variable): { m: number; v: number } {
    let moments = this.moments.get(variable);
    if (moments === undefined) {
      const bytes = 4 * variable.size;
      moments = { m: this.module._malloc(bytes), v: this.module._malloc(bytes) };
      this.pointers.push(moments.m, moments.v);
      this.module.HEAPF32.fill(0, moments.m / 4, moments.m / 4 + variable.size);
      this.module.HEAPF32.fill(0, moments.v / 4, moments.v / 4 + variable.size);
      this.moments.set(variable, moments);
    }
    return moments;
  }

  async prepare(vars: tf.Variable[]): Promise<void> {
    for (const variable of vars) {
      this.momentsOf(variable);
      await yieldToEventLoop();
    }
  }

  /** Copies the moments variable by variable, the event loop getting a turn after each. */
  async exportState(): Promise<UpdaterState> {
    const slots: UpdaterState['slots'] = [];
    const iterations = this.t;
    for (const [variable, { m, v }] of this.moments) {
      // Read the heap after each turn: another member's step may have grown (replaced) it.
      const heap = this.module.HEAPF32;
      slots.push({ variable, slot: 'm', values: heap.slice(m / 4, m / 4 + variable.size) });
      slots.push({ variable, slot: 'v', values: heap.slice(v / 4, v / 4 + variable.size) });
      await yieldToEventLoop();
    }
    return { optimizer: 'Adam', iterations, scalars: {}, slots };
  }

  async importState(state: UpdaterState): Promise<void> {
    const slots = checkState(state, 'Adam', ['m', 'v']);
    for (const [variable, s] of slots) {
      const { m, v } = this.momentsOf(variable);
      // Read the heap after the allocations: growing it replaces HEAPF32.
      const heap = this.module.HEAPF32;
      heap.set(s.get('m') ?? new Float32Array(variable.size), m / 4);
      heap.set(s.get('v') ?? new Float32Array(variable.size), v / 4);
      await yieldToEventLoop();
    }
    this.t = state.iterations;
  }

  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    this.t++;
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps } = this.settings;
    const lrc1 = lr / (1 - b1 ** this.t);
    const c2 = 1 / (1 - b2 ** this.t);
    vars.forEach((variable, i) => {
      const grad = grads[i] as tf.Tensor;
      const { m, v } = this.momentsOf(variable);
      const outInfo = this.backend.makeOutput(variable.shape, 'float32');
      const out = this.backend.getMemoryOffset(outInfo.dataId);
      const p = this.backend.getMemoryOffset(variable.dataId);
      const g = this.backend.getMemoryOffset(grad.dataId);
      const n = variable.size;
      const vectorised = n & ~3;
      this.adam(out, p, g, m, v, 4 * vectorised, b1, b2, 1 - b1, 1 - b2, lrc1, c2, eps);
      if (vectorised < n) {
        const heap = this.module.HEAPF32;
        for (let j = vectorised; j < n; j++) {
          const gj = heap[g / 4 + j] as number;
          const mj = Math.fround(b1 * (heap[m / 4 + j] as number) + (1 - b1) * gj);
          const vj = Math.fround(b2 * (heap[v / 4 + j] as number) + (1 - b2) * gj * gj);
          heap[m / 4 + j] = mj;
          heap[v / 4 + j] = vj;
          heap[out / 4 + j] = (heap[p / 4 + j] as number) - (lrc1 * mj) / (Math.sqrt(vj * c2) + eps);
        }
      }
      const next = tf.engine().makeTensorFromTensorInfo(outInfo, this.backend);
      variable.assign(next);
      next.dispose();
    });
  }
}
