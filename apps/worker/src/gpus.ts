import { execFile } from 'node:child_process';
import { listGpuAdapters } from '@chorus/models';
import type { WorkerBackendPreference } from './env';

/** One GPU a worker process can be pinned to. */
export interface FoundGpu {
  index: number;
  /** One readable line: "GPU 0: NVIDIA H200 (vulkan)". */
  line: string;
}

/** NVIDIA GPUs as CUDA numbers them (`nvidia-smi -L`); none when nvidia-smi is absent. */
function nvidiaGpus(): Promise<FoundGpu[]> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: 10_000 }, (error, stdout) => {
      if (error) return resolve([]);
      const found: FoundGpu[] = [];
      for (const m of stdout.matchAll(/^GPU (\d+): (.*?)(?: \(UUID: [^)]*\))?$/gm)) {
        found.push({ index: Number(m[1]), line: `GPU ${m[1]}: ${m[2]} (CUDA)` });
      }
      resolve(found);
    });
  });
}

/**
 * The GPUs a backend would drive, numbered as `--gpu` counts them: tensorflow, CUDA's order; webgpu
 * (and auto), the adapters of Dawn's first backend that has any — hardware ones only, unless
 * `allowSoftware` (then Mesa's llvmpipe counts as GPU 0 on a machine without a GPU).
 */
export async function findGpus(
  backend: WorkerBackendPreference,
  allowSoftware: boolean,
): Promise<FoundGpu[]> {
  if (backend === 'wasm' || backend === 'cpu') return [];
  if (backend === 'tensorflow') return nvidiaGpus();
  const adapters = (await listGpuAdapters()).filter((a) => allowSoftware || !a.software);
  const first = adapters[0]?.backend;
  return adapters
    .filter((a) => a.backend === first)
    .map((a) => ({
      index: a.index,
      line: `GPU ${a.index}: ${a.name} (${a.backend}${a.software ? ', software' : ''})`,
    }));
}
