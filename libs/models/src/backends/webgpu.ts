/**
 * The webgpu backend: `@tensorflow/tfjs-backend-webgpu` over Dawn's `dawn.node` (npm `webgpu`), both
 * optional dependencies, imported only when asked for. Order matters:
 * 1. `globalThis.navigator.gpu` must exist before tfjs-backend-webgpu is imported, or the backend
 *    silently does not register;
 * 2. Dawn's Vulkan backend is tried first (NVIDIA, AMD, Intel drivers), then its OpenGL ES backend
 *    (EGL; `EGL_PLATFORM=surfaceless` so no display is needed), whose adapter must be requested at
 *    the `compatibility` feature level — tfjs does not ask for it, so `requestAdapter` is wrapped to
 *    hand tfjs the adapter chosen here;
 * 3. a software adapter (Mesa llvmpipe or lavapipe, SwiftShader, or one Dawn marks as fallback) is
 *    refused unless `allowSoftware` is set: on a CPU it is far slower than wasm, but it runs every
 *    WebGPU kernel, which is what CI needs to check them.
 * Tensors then live on the GPU: `dataSync()` throws there (`OffscreenCanvas is not defined`), so
 * every hot path reads with `await t.data()`.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

/** What Chorus reads of a GPUAdapter (the `webgpu` package's types are optional). */
interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  adapterType?: string;
}
interface Adapter {
  info: AdapterInfo;
}
interface Gpu {
  requestAdapter(options?: Record<string, unknown>): Promise<Adapter | null>;
}
interface WebgpuModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** One adapter Dawn offers on this machine. */
export interface GpuAdapterSummary {
  /** Dawn backend: 'vulkan' or 'opengles'. */
  backend: DawnBackend;
  /** Position among the adapters of that backend (what `--gpu` counts). */
  index: number;
  name: string;
  /** Judged from the name alone (llvmpipe, lavapipe, SwiftShader): see isSoftwareAdapter. */
  software: boolean;
}

export type DawnBackend = 'vulkan' | 'opengles';
const DAWN_BACKENDS: readonly DawnBackend[] = ['vulkan', 'opengles'];

export interface WebgpuOptions {
  /** Index of the adapter among those of the first Dawn backend that has any (see listGpuAdapters). */
  gpu?: number;
  /** Accept a software adapter (llvmpipe, lavapipe, SwiftShader, fallback). Default false. */
  allowSoftware?: boolean;
}

export type WebgpuAttempt = { ok: true; device: string; detail: string } | { ok: false; reason: string };

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader/i;

/** Software adapters: CPU rasterisers, whatever Dawn reports for them. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  return (
    info.isFallbackAdapter === true ||
    info.adapterType === 'cpu' ||
    SOFTWARE.test(`${info.device ?? ''} ${info.description ?? ''}`)
  );
}

/** "NVIDIA H200 (vulkan; vendor nvidia, architecture hopper)"; names what Dawn leaves blank no further. */
export function describeAdapter(info: AdapterInfo, backend: DawnBackend, software: boolean): string {
  const name = [info.device, info.description].filter((s) => s !== undefined && s !== '').join(', ');
  const facts = [
    backend,
    info.vendor ? `vendor ${info.vendor}` : null,
    info.architecture ? `architecture ${info.architecture}` : null,
    software ? 'software' : null,
    info.isFallbackAdapter === true ? 'fallback' : null,
  ].filter((s) => s !== null);
  return `${name === '' ? 'unnamed adapter' : name} (${facts.join('; ')})`;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

let loaded: { module: WebgpuModule; tfjsVersion: string } | null = null;
interface Chosen {
  gpu: Gpu;
  adapter: Adapter;
  backend: DawnBackend;
  index: number;
  software: boolean;
}
/** The adapter tfjs' webgpu backend was registered with; one per process. */
let chosen: Chosen | null = null;

async function importWebgpu(): Promise<WebgpuModule> {
  const pkg = 'webgpu';
  return (await import(/* @vite-ignore */ pkg)) as WebgpuModule;
}

function prepareEnvironment(): void {
  // Dawn's OpenGL ES backend opens EGL; without a display, Mesa needs the surfaceless platform.
  // Only set when unset, before dawn.node loads libEGL.
  // eslint-disable-next-line no-restricted-properties
  if (process.env['EGL_PLATFORM'] === undefined) process.env['EGL_PLATFORM'] = 'surfaceless';
}

/**
 * The adapters Dawn's backend offers. Dawn lists them in the error of a request for an adapter name
 * that matches none (its `adapter=` flag is the only way to name one); the list has one line per
 * adapter: ` * backend: 'vulkan', name: 'NVIDIA H200'`.
 */
async function adaptersOf(module: WebgpuModule, backend: DawnBackend): Promise<string[]> {
  try {
    const gpu = module.create([`backend=${backend}`, 'adapter=\u0001chorus-lists-adapters']);
    await gpu.requestAdapter({ featureLevel: 'compatibility' });
    return [];
  } catch (e) {
    const names: string[] = [];
    for (const m of message(e).matchAll(/name: '([^'\n]*)'/g)) names.push(m[1] as string);
    return names;
  }
}

/** Every adapter of every Dawn backend, without choosing one. Empty when `webgpu` does not load. */
export async function listGpuAdapters(): Promise<GpuAdapterSummary[]> {
  prepareEnvironment();
  let module: WebgpuModule;
  try {
    module = loaded?.module ?? (await importWebgpu());
  } catch {
    return [];
  }
  const out: GpuAdapterSummary[] = [];
  for (const backend of DAWN_BACKENDS) {
    (await adaptersOf(module, backend)).forEach((name, index) =>
      out.push({ backend, index, name, software: isSoftwareAdapter({ device: name }) }),
    );
  }
  return out;
}

/** Dawn's OpenGL ES adapters exist only at the compatibility feature level. */
const adapterOptions = (backend: DawnBackend): Record<string, unknown> => ({
  powerPreference: 'high-performance',
  ...(backend === 'opengles' ? { featureLevel: 'compatibility' } : {}),
});

async function requestAdapter(
  module: WebgpuModule,
  backend: DawnBackend,
  name: string | undefined,
): Promise<{ gpu: Gpu; adapter: Adapter | null }> {
  const flags = [`backend=${backend}`, ...(name !== undefined ? [`adapter=${name}`] : [])];
  const gpu = module.create(flags);
  const adapter = await gpu.requestAdapter(adapterOptions(backend));
  return { gpu, adapter };
}

function installNavigator(module: WebgpuModule, gpu: Gpu, options: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(module.globals)) {
    if (!(key in globalThis))
      Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  }
  // tfjs asks navigator.gpu for an adapter: it gets a fresh one (an adapter makes one device) from
  // the instance created for the chosen adapter, with the options that found it.
  const wrapped = {
    requestAdapter: () => gpu.requestAdapter(options),
    getPreferredCanvasFormat: () => 'rgba8unorm',
  };
  const holder = globalThis as { navigator?: object };
  if (holder.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: wrapped },
      configurable: true,
      writable: true,
    });
  } else {
    Object.defineProperty(holder.navigator, 'gpu', { value: wrapped, configurable: true, writable: true });
  }
}

/** Finds the adapter (index `gpu` of the first backend that has adapters) and reports why not. */
async function chooseAdapter(
  module: WebgpuModule,
  options: WebgpuOptions,
): Promise<Chosen | { ok: false; reason: string }> {
  const seen: string[] = [];
  for (const backend of DAWN_BACKENDS) {
    const names = await adaptersOf(module, backend);
    if (names.length === 0) {
      seen.push(`${backend}: no adapter`);
      continue;
    }
    const index = options.gpu ?? 0;
    const name = names[index];
    if (name === undefined) {
      return {
        ok: false,
        reason: `no GPU ${index}: Dawn's ${backend} backend has ${names.length} adapter(s) (${names.join(', ')})`,
      };
    }
    // Dawn picks the first adapter whose name contains the one given: GPUs with the same name are
    // told apart by the environment the supervisor sets (CUDA_VISIBLE_DEVICES), not here.
    const { gpu, adapter } = await requestAdapter(module, backend, names.length > 1 ? name : undefined);
    if (adapter === null) {
      seen.push(`${backend}: '${name}' listed but refused the request`);
      continue;
    }
    const software = isSoftwareAdapter(adapter.info);
    if (software && options.allowSoftware !== true) {
      seen.push(`${backend}: ${describeAdapter(adapter.info, backend, true)} is a software adapter`);
      continue;
    }
    return { gpu, adapter, backend, index, software };
  }
  return {
    ok: false,
    reason:
      `no usable WebGPU adapter (${seen.join('; ')}). A GPU needs its Vulkan driver and the loader ` +
      '(Debian: libvulkan1) or EGL (libegl1); software adapters are used only with ' +
      'CHORUS_WEBGPU_ALLOW_SOFTWARE=1',
  };
}

/** Loads `webgpu` and `@tensorflow/tfjs-backend-webgpu` and makes 'webgpu' tfjs' current backend. */
export async function loadWebgpu(options: WebgpuOptions = {}): Promise<WebgpuAttempt> {
  if (options.gpu !== undefined && !(Number.isInteger(options.gpu) && options.gpu >= 0)) {
    return { ok: false, reason: `gpu must be a non-negative integer, got ${options.gpu}` };
  }
  if (chosen === null) {
    prepareEnvironment();
    try {
      loaded = { module: await importWebgpu(), tfjsVersion: '' };
    } catch (e) {
      return {
        ok: false,
        reason:
          `the npm package webgpu (Dawn's dawn.node) does not load: ${message(e).split('\n')[0]}. ` +
          'It is an optional dependency: `npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0`',
      };
    }
    const found = await chooseAdapter(loaded.module, options);
    if ('reason' in found) return found;
    chosen = found;
    installNavigator(loaded.module, found.gpu, adapterOptions(found.backend));
    try {
      const pkg = '@tensorflow/tfjs-backend-webgpu';
      await import(/* @vite-ignore */ pkg);
      const require = createRequire(import.meta.url);
      loaded.tfjsVersion = (require(`${pkg}/package.json`) as { version: string }).version;
    } catch (e) {
      return { ok: false, reason: `@tensorflow/tfjs-backend-webgpu does not load: ${message(e)}` };
    }
  } else if (options.gpu !== undefined && options.gpu !== chosen.index) {
    return {
      ok: false,
      reason: `this process already drives WebGPU adapter ${chosen.index}; start another process for GPU ${options.gpu}`,
    };
  } else if (chosen.software && options.allowSoftware !== true) {
    return { ok: false, reason: 'this process drives a software WebGPU adapter, which was not allowed' };
  }
  if (tf.findBackend('webgpu') === null && !tf.engine().registryFactory['webgpu']) {
    return { ok: false, reason: 'tfjs-backend-webgpu did not register (navigator.gpu was missing)' };
  }
  if (!(await tf.setBackend('webgpu'))) {
    return { ok: false, reason: 'tfjs-backend-webgpu failed to initialise its device' };
  }
  const { adapter, backend, index, software } = chosen;
  return {
    ok: true,
    device: `GPU ${index}: ${describeAdapter(adapter.info, backend, software)}`,
    detail: `@tensorflow/tfjs-backend-webgpu ${loaded?.tfjsVersion ?? '?'} on Dawn (npm webgpu)`,
  };
}
