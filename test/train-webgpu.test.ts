/**
 * `chorus train --backend webgpu` end to end, against the same run on wasm. On the CPU build
 * machines the adapter is Mesa llvmpipe over Dawn's OpenGL ES backend, a software adapter that the
 * run takes only because CHORUS_WEBGPU_ALLOW_SOFTWARE=1 says so.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RunResultSchema } from '@chorus/protocol';

const CLI = fileURLToPath(new URL('../bin/chorus.mjs', import.meta.url));
// In CI the GLES path is installed by .ci/run and must work; elsewhere its absence skips, loudly.
const requireAdapter = Boolean(process.env.CI);

function chorusTrain(backend: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['train', '--dataset', 'digits', '--model', 'mlp', '--members', '2', '--epochs', '3'];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, ...args, '--batch-size', '32', '--backend', backend, '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CHORUS_WEBGPU_ALLOW_SOFTWARE: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const resultOf = (stdout: string) => {
  const json = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { backend: string; device: string };
  return { ...json, result: RunResultSchema.parse(json) };
};

describe('chorus train --backend webgpu', () => {
  it(
    'completes, and its ensemble is within 2 points of the same run on wasm',
    { timeout: 300_000 },
    async (ctx) => {
      const gpu = await chorusTrain('webgpu');
      if (gpu.code !== 0 && /backend 'webgpu' is not available/.test(gpu.stderr) && !requireAdapter) {
        console.warn(`test/train-webgpu.test.ts skipped: ${gpu.stderr.trim().split('\n').pop()}`);
        ctx.skip();
      }
      expect(gpu.code, gpu.stderr).toBe(0);
      const cpu = await chorusTrain('wasm');
      expect(cpu.code, cpu.stderr).toBe(0);
      const a = resultOf(gpu.stdout);
      const b = resultOf(cpu.stdout);
      expect(a.backend).toBe('webgpu');
      expect(a.device).toMatch(/^GPU 0: .+\((vulkan|opengles)/);
      expect(gpu.stderr).toMatch(/backend webgpu on GPU 0: /);
      expect(b.backend).toBe('wasm');
      for (const strategy of ['soft', 'hard'] as const) {
        const gap = Math.abs(a.result.ensemble[strategy].accuracy - b.result.ensemble[strategy].accuracy);
        expect(gap, strategy).toBeLessThanOrEqual(0.02);
      }
      // Not a degenerate run: 10 digit classes, chance is 0.1.
      expect(a.result.ensemble.soft.accuracy).toBeGreaterThan(0.5);
    },
  );
});
