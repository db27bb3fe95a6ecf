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
    expect(s).toMatchObject({ backend: 'cpu', device: 'CPU (JavaScript)' });
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
    expect(['tensorflow', 'wasm']).toContain(s.backend);
    if (s.backend === 'wasm')
      expect(s.detail).toMatch(/skipped tensorflow: neither @tensorflow\/tfjs-node-gpu/);
  });

  it('rejects unknown names', async () => {
    await expect(selectBackend('webgl' as 'cpu')).rejects.toThrow(ModelError);
  });
});
