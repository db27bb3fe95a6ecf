/**
 * The GPU kit (bench/gpu/README.md), dry-run on this machine so that it cannot rot: prepare it
 * (without the loader .debs and the Node binary, which only a GPU machine needs) into a folder
 * outside the repository — no node_modules above it, as on the GPU machine — train with its bundled
 * CLI on webgpu, and run its run.sh, which writes the JSON report. Here the adapter is Mesa llvmpipe
 * (software); in CI .ci/run installs it, elsewhere its absence skips the webgpu parts, loudly.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/processes';

const requireAdapter = Boolean(process.env.CI);

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

interface Report {
  adapters: { backend: string; name: string; software: boolean }[];
  results: (
    | { backend: string; error: string }
    | {
        backend: string;
        device: string;
        matMulGflops?: Record<string, number>;
        samplesPerSecond: Record<string, number>;
        errors: string[];
      }
  )[];
}

const dir = await mkdtemp(join(tmpdir(), 'chorus-gpu-kit-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the GPU kit, dry-run here', () => {
  it(
    'is prepared under 64 MiB, trains with its bundled CLI and reports in JSON',
    { timeout: 600_000 },
    async () => {
      const kit = join(dir, 'kit');
      const prepared = await run(process.execPath, [
        '--import',
        'tsx',
        'bench/gpu/prepare.ts',
        '--out',
        kit,
        '--no-debs',
        '--no-node',
      ]);
      expect(prepared.code, prepared.output).toBe(0);
      expect(prepared.output).toMatch(/MiB {2}.*kit\/ \(limit 64 MiB\)/);

      const env = { ...process.env, CHORUS_WEBGPU_ALLOW_SOFTWARE: '1', OUT: join(dir, 'out') };
      const cli = join(kit, 'app/cli/src/chorus.mjs');
      // The bundle starts without Prisma (its lazy imports are chunks of their own).
      const version = await run(process.execPath, [cli, '--version'], env);
      expect(version.output.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      const train = await run(
        process.execPath,
        [
          cli,
          'train',
          '--dataset',
          'synthetic',
          '--model',
          'mlp',
          '--members',
          '2',
          '--epochs',
          '1',
          '--backend',
          'webgpu',
        ],
        env,
      );
      const noAdapter = /backend 'webgpu' is not available/.test(train.output);
      if (noAdapter && !requireAdapter) {
        console.warn('test/gpu-kit.test.ts: no WebGPU adapter here; the kit is checked on wasm only');
      } else {
        expect(train.code, train.output).toBe(0);
        expect(train.output).toMatch(/done in .* on webgpu \(GPU 0: /);
      }

      const bench = await run('bash', [join(kit, 'run.sh'), '--quick', '--allow-software'], env);
      expect(bench.code, bench.output).toBe(0);
      const report = JSON.parse(await readFile(join(dir, 'out/gpu-bench.json'), 'utf8')) as Report;
      const wasm = report.results.find((r) => r.backend === 'wasm');
      const gpu = report.results.find((r) => r.backend === 'webgpu');
      if (!wasm || 'error' in wasm) throw new Error(`wasm not measured: ${JSON.stringify(wasm)}`);
      expect(wasm.errors).toEqual([]);
      expect(wasm.samplesPerSecond['mlp']).toBeGreaterThan(0);
      expect(wasm.samplesPerSecond['lenet5']).toBeGreaterThan(0);
      if (noAdapter && !requireAdapter) return;
      if (!gpu || 'error' in gpu) throw new Error(`webgpu not measured: ${JSON.stringify(gpu)}`);
      expect(report.adapters.length).toBeGreaterThan(0);
      expect(gpu.device).toMatch(/^GPU 0: /);
      expect(gpu.errors).toEqual([]);
      expect(Object.keys(gpu.matMulGflops ?? {})).toEqual(['128', '256']);
      for (const model of ['mlp', 'lenet5']) expect(gpu.samplesPerSecond[model], model).toBeGreaterThan(0);
    },
  );
});
