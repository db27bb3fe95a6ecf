import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../errors';
import { selectBackend } from './select';

// tfjs-node(-gpu) cannot install on the build machines (its install script downloads
// libtensorflow), so here 'tensorflow' is absent and 'auto' lands on wasm. Where it is installed,
// the first and last tests are the ones that change.
describe('selectBackend', () => {
  it('explains an absent tensorflow backend and how to install it', async () => {
    const error = await selectBackend('tensorflow', { gpu: 0 }).catch((e: unknown) => e);
    if (!(error instanceof ModelError)) return; // tfjs-node is installed here
    expect(error.code).toBe('backend-unavailable');
    expect(error.message).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(error.message).toMatch(/npm install @tensorflow\/tfjs-node/);
  });

  it('cpu', async () => {
    const s = await selectBackend('cpu');
    expect(s).toMatchObject({ backend: 'cpu', device: 'CPU (JavaScript)', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('wasm, with SIMD in Node and Chorus kernels registered', async () => {
    const s = await selectBackend('wasm');
    expect(s.backend).toBe('wasm');
    expect(s.device).toBe('CPU (wasm SIMD, 1 thread)');
    expect(s.detail).toMatch(/tfjs-backend-wasm 4\.22\.0 with Chorus kernels/);
    expect(tf.getBackend()).toBe('wasm');
    // Conv2DBackpropFilter is missing from stock tfjs-backend-wasm 4.22.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    // Switching back and forth works (paths are set once).
    await selectBackend('cpu');
    expect((await selectBackend('wasm')).backend).toBe('wasm');
  });

  it('auto picks the fastest present backend and says what it skipped', async () => {
    const s = await selectBackend('auto');
    expect(['tensorflow', 'webgpu', 'wasm']).toContain(s.backend);
    if (s.backend === 'wasm') {
      expect(s.detail).toMatch(/skipped tensorflow: neither @tensorflow\/tfjs-node-gpu/);
      expect(s.skipped.map((k) => k.backend)).toEqual(['tensorflow', 'webgpu']);
      // Neither package installed: said so, without the two import errors and their paths.
      expect(s.skipped[0]?.reason).toMatch(
        /^neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed\. Install one: /,
      );
      // Build machines have no GPU: at most Mesa's llvmpipe, which auto never takes.
      expect(s.detail).toMatch(/; webgpu: /);
      expect(s.detail).not.toMatch(/; webgpu: .*llvmpipe(?!.* is a software adapter)/);
    }
  });

  it('webgpu takes a software adapter only when allowed, and names the adapter', async () => {
    const refused = await selectBackend('webgpu').catch((e: unknown) => e);
    if (refused instanceof ModelError) {
      expect(refused.code).toBe('backend-unavailable');
      expect(refused.message).toMatch(/CHORUS_WEBGPU_ALLOW_SOFTWARE=1/);
    }
    const s = await selectBackend('webgpu', { allowSoftwareGpu: true }).catch((e: unknown) => e);
    if (s instanceof ModelError) return; // no WebGPU adapter at all (see train-webgpu.test.ts)
    expect(s).toMatchObject({ backend: 'webgpu' });
    expect((s as { device: string }).device).toMatch(/^GPU 0: .+ \((vulkan|opengles)[;)]/);
    expect((s as { detail: string }).detail).toMatch(/tfjs-backend-webgpu 4\.22\.0 on Dawn/);
    expect(tf.getBackend()).toBe('webgpu');
    // One adapter per process.
    await expect(selectBackend('webgpu', { gpu: 3, allowSoftwareGpu: true })).rejects.toThrow(
      /already drives WebGPU adapter 0; start another process for GPU 3/,
    );
  });

  it('rejects unknown names', async () => {
    await expect(selectBackend('webgl' as 'cpu')).rejects.toThrow(ModelError);
  });
});
