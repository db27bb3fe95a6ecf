import { describe, expect, it } from 'vitest';
import { describeAdapter, isSoftwareAdapter } from './webgpu';

describe('WebGPU adapters', () => {
  it('tells software adapters from hardware ones', () => {
    // What Dawn reports for Mesa llvmpipe over OpenGL ES (seen on the build machines).
    const llvmpipe = {
      vendor: '',
      architecture: '',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
      description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6',
      isFallbackAdapter: false,
    };
    expect(isSoftwareAdapter(llvmpipe)).toBe(true);
    expect(isSoftwareAdapter({ device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'lavapipe' })).toBe(
      true,
    );
    expect(isSoftwareAdapter({ device: 'Some GPU', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ device: 'Some GPU', adapterType: 'cpu' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200' })).toBe(
      false,
    );
  });

  it('names the adapter with vendor, architecture, backend and whether it is software', () => {
    expect(
      describeAdapter(
        { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: '' },
        'vulkan',
        false,
      ),
    ).toBe('NVIDIA H200 (vulkan; vendor nvidia; architecture hopper)');
    expect(describeAdapter({ device: 'llvmpipe', isFallbackAdapter: true }, 'opengles', true)).toBe(
      'llvmpipe (opengles; software; fallback)',
    );
    expect(describeAdapter({}, 'vulkan', false)).toBe('unnamed adapter (vulkan)');
  });
});
