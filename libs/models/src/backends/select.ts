/**
 * Chooses and initialises the tfjs backend of this process (tfjs has one engine per process).
 * - tensorflow: `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node` (optional dependencies;
 *   their install script downloads libtensorflow, so they are often absent);
 * - webgpu: `@tensorflow/tfjs-backend-webgpu` on Dawn (npm `webgpu`), optional dependencies; a hardware
 *   adapter only, unless `allowSoftwareGpu` (see webgpu.ts);
 * - wasm: `@tensorflow/tfjs-backend-wasm` (SIMD, one thread in Node) plus Chorus' own kernels for the
 *   gradients it lacks (wasm-kernels/);
 * - cpu: `@tensorflow/tfjs-backend-cpu` (pure JS, always present, slow).
 * 'auto' takes the first that initialises, in that order.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BACKENDS } from '@chorus/protocol';
import { ModelError } from '../errors';
import { loadWebgpu } from './webgpu';

/** One of protocol's BACKENDS (a worker reports it in its handshake), listed fastest first. */
export type BackendName = (typeof BACKENDS)[number];

export interface BackendSelection {
  backend: BackendName;
  /** What runs the kernels, e.g. "GPU 0 (CUDA)" or "CPU (wasm SIMD, 1 thread)". */
  device: string;
  /** Packages and versions, and why faster backends were passed over. */
  detail: string;
  /** The faster backends passed over, fastest first, each with why (also in `detail`). */
  skipped: Array<{ backend: BackendName; reason: string }>;
}

export interface SelectBackendOptions {
  /**
   * GPU index: tensorflow sets CUDA_VISIBLE_DEVICES before libtensorflow loads; webgpu takes that
   * adapter of Dawn's first backend that has adapters.
   */
  gpu?: number;
  /**
   * An explicit 'webgpu' may take a software adapter (Mesa llvmpipe over OpenGL ES, for CI);
   * 'auto' never does. Apps set it from CHORUS_WEBGPU_ALLOW_SOFTWARE=1.
   */
  allowSoftwareGpu?: boolean;
}

type Attempt = { ok: true; device: string; detail: string } | { ok: false; reason: string };

const message = (e: unknown): string =>
  e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);

/** The package that provided the 'tensorflow' backend in this process, and the GPU it was pinned to. */
let tensorflowLoaded: { pkg: string; gpu: number | undefined } | null = null;

async function loadTensorflow(gpu: number | undefined): Promise<Attempt> {
  if (gpu !== undefined && !(Number.isInteger(gpu) && gpu >= 0)) {
    return { ok: false, reason: `gpu must be a non-negative integer, got ${gpu}` };
  }
  if (tensorflowLoaded === null) {
    if (gpu !== undefined) {
      // libtensorflow uses one GPU per process and reads its choice from the environment when it
      // loads; there is no tf.device. This is the only place Chorus writes the environment.
      // eslint-disable-next-line no-restricted-properties
      process.env['CUDA_VISIBLE_DEVICES'] = String(gpu);
    }
    const failures: string[] = [];
    let absent = 0;
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(/* @vite-ignore */ pkg);
        tensorflowLoaded = { pkg, gpu };
        break;
      } catch (e) {
        failures.push(`${pkg}: ${message(e)}`);
        if ((e as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') absent++;
      }
    }
    if (tensorflowLoaded === null) {
      const install =
        'Install one: `npm install @tensorflow/tfjs-node-gpu` (CUDA 11.2 + cuDNN 8.1) or ' +
        '`npm install @tensorflow/tfjs-node` (CPU); their install script downloads libtensorflow ' +
        'from storage.googleapis.com, so it needs internet access.';
      return {
        ok: false,
        // Neither installed (the usual case) needs no import errors with their paths; a package
        // that is there and fails to load does.
        reason:
          absent === failures.length
            ? `neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed. ${install}`
            : `neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads (${failures.join('; ')}). ${install}`,
      };
    }
  } else if (gpu !== undefined && tensorflowLoaded.gpu !== gpu) {
    return {
      ok: false,
      reason: `libtensorflow is already loaded for GPU ${tensorflowLoaded.gpu ?? 'default'}; one process can use one GPU — start another process for GPU ${gpu}`,
    };
  }
  if (!(await tf.setBackend('tensorflow'))) {
    return { ok: false, reason: `${tensorflowLoaded.pkg} loaded but its backend failed to initialise` };
  }
  const { pkg } = tensorflowLoaded;
  const usingGpu = (tf.backend() as { isUsingGpuDevice?: unknown }).isUsingGpuDevice === true;
  const device =
    pkg === '@tensorflow/tfjs-node-gpu' && usingGpu
      ? `GPU ${tensorflowLoaded.gpu ?? 0} (CUDA)`
      : pkg === '@tensorflow/tfjs-node-gpu'
        ? 'CPU (libtensorflow; no CUDA device found)'
        : 'CPU (libtensorflow)';
  return { ok: true, device, detail: `${pkg} (tfjs-core ${tf.version_core})` };
}

let wasmPathsSet = false;

async function loadWasm(): Promise<Attempt> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet && tf.findBackend('wasm') === null) {
      const require = createRequire(import.meta.url);
      const dist = path.join(
        path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
        'dist',
      );
      wasm.setWasmPaths(dist + path.sep);
      wasmPathsSet = true;
    }
    const { registerChorusWasmKernels } = await import('../wasm-kernels/index');
    registerChorusWasmKernels();
    if (!(await tf.setBackend('wasm')))
      return { ok: false, reason: 'tfjs-backend-wasm failed to initialise' };
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = wasm.getThreadsCount();
    const device = `CPU (wasm${simd === true ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
    return {
      ok: true,
      device,
      detail: `@tensorflow/tfjs-backend-wasm ${wasm.version_wasm} with Chorus kernels`,
    };
  } catch (e) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm failed: ${message(e)}` };
  }
}

async function loadCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, reason: 'the cpu backend failed to initialise' };
  return { ok: true, device: 'CPU (JavaScript)', detail: `@tensorflow/tfjs-backend-cpu ${tf.version_core}` };
}

/**
 * Whether this Linux machine shows a GPU's device node (NVIDIA's /dev/nvidia0…, or a DRM render
 * node of AMD or Intel). Without one, 'auto' does not start Dawn: it would find only a software
 * adapter, which 'auto' refuses anyway, after printing its own warnings. Other systems: assumed.
 */
function hasGpuDeviceNode(): boolean {
  if (process.platform !== 'linux') return true;
  const listed = (dir: string, match: RegExp): boolean => {
    try {
      return readdirSync(dir).some((name) => match.test(name));
    } catch {
      return false;
    }
  };
  return listed('/dev', /^nvidia\d+$/) || listed('/dev/dri', /^renderD\d+$/);
}

async function attempt(name: BackendName, options: SelectBackendOptions, auto: boolean): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return loadTensorflow(options.gpu);
    case 'webgpu':
      if (auto && !hasGpuDeviceNode())
        return { ok: false, reason: 'no GPU device node (/dev/nvidia*, /dev/dri/renderD*), not probed' };
      return loadWebgpu({
        ...(options.gpu !== undefined ? { gpu: options.gpu } : {}),
        allowSoftware: !auto && options.allowSoftwareGpu === true,
      });
    case 'wasm':
      return loadWasm();
    case 'cpu':
      return loadCpu();
  }
}

/**
 * Initialises the requested backend (or, for 'auto', the fastest present: tensorflow > webgpu
 * (hardware adapters only) > wasm > cpu)
 * and makes it tfjs' current backend. A requested backend that cannot load is a
 * 'backend-unavailable' error explaining why and what to install.
 */
export async function selectBackend(
  preference: 'auto' | BackendName,
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  if (preference !== 'auto' && !(BACKENDS as readonly string[]).includes(preference)) {
    throw new ModelError(
      'invalid-config',
      `unknown backend '${String(preference)}'; expected auto, ${BACKENDS.join(', ')}`,
    );
  }
  const order = preference === 'auto' ? BACKENDS : [preference];
  const skipped: BackendSelection['skipped'] = [];
  const said = () => skipped.map(({ backend, reason }) => `${backend}: ${reason}`).join('; ');
  for (const name of order) {
    const result = await attempt(name, options, preference === 'auto');
    if (result.ok) {
      const detail = skipped.length === 0 ? result.detail : `${result.detail}; skipped ${said()}`;
      return { backend: name, device: result.device, detail, skipped };
    }
    skipped.push({ backend: name, reason: result.reason });
  }
  throw new ModelError(
    'backend-unavailable',
    preference === 'auto'
      ? `no tfjs backend could start: ${said()}`
      : `backend '${preference}' is not available: ${said()}`,
  );
}
