import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResultSchema, STRATEGY_NAMES } from '@chorus/protocol';

const CLI = fileURLToPath(new URL('../../../bin/chorus.mjs', import.meta.url));

/** Runs the real CLI in a child process. */
function chorus(
  args: string[],
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chorus CLI', () => {
  it('models --json lists every model with its Keras parameter counts (model.summary)', async () => {
    const r = await chorus(['models', '--json']);
    expect(r.code).toBe(0);
    const models = JSON.parse(lastLine(r.stdout)) as { name: string; params: number; trainableParams: number }[];
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    expect(byName.mlp?.params).toBe(47_410);
    expect(byName['fashion-dnn']?.params).toBe(1_195_018);
    expect(byName['fashion-small']?.params).toBe(79_510);
    expect(byName['sign-cnn']).toMatchObject({ params: 264_049, trainableParams: 263_749 });
    expect(models.map((m) => m.name)).toEqual(['mlp', 'fashion-dnn', 'fashion-small', 'sign-cnn', 'lenet5', 'small-cnn']);
  });

  it('train --json ends with the result object; --config is merged with flags, which win', async () => {
    const config = join(dir, 'run.json');
    await writeFile(
      config,
      JSON.stringify({ dataset: 'synthetic', members: 2, epochs: 2, batchSize: 32, memberOverrides: [{ member: 1, dropout: 0.2 }] }),
    );
    const r = await chorus(['train', '--config', config, '--members', '3', '--backend', 'cpu', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(lastLine(r.stdout)) as Record<string, unknown>;
    const result = RunResultSchema.parse(out);
    expect(result.members.map((m) => m.index)).toEqual([0, 1, 2]);
    // Every strategy, the fixed votes and the learned combiners, in STRATEGY_NAMES order.
    expect(Object.keys(out.ensemble as object)).toEqual([...STRATEGY_NAMES]);
    expect(result.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(out.backend).toBe('cpu');
    // The synthetic task is learnable: the ensemble is well above chance (4 classes).
    expect(result.ensemble.soft.accuracy).toBeGreaterThan(0.4);
    // Progress goes to stderr, so stdout holds nothing but the result.
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/backend cpu/);
  });

  it('the same seed gives the same ensemble', async () => {
    const args = ['train', '--dataset', 'synthetic', '--members', '2', '--epochs', '1', '--backend', 'cpu', '--json'];
    const [a, b] = await Promise.all([chorus(args), chorus(args)]);
    expect(JSON.parse(lastLine(a.stdout)).ensemble).toEqual(JSON.parse(lastLine(b.stdout)).ensemble);
  });

  it('bad input fails with a message a user can act on, and no stack trace', async () => {
    const bad = await chorus(['train', '--dataset', 'synthetic', '--members', '0', '--epochs', 'two']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--epochs must be a number, got "two"/);
    const invalid = await chorus(['train', '--dataset', 'synthetic', '--members', '0']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/members: /);
    expect(invalid.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const missing = await chorus(['train', '--dataset', 'sign-mnist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/kaggle/i);
    expect(missing.stderr).toMatch(/--dataset-path/);
  });

  it('dashboard says how to give it a database when there is none, and refuses a bad port', async () => {
    const { DATABASE_URL: _url, ...env } = process.env;
    const none = await chorus(['dashboard', '--data-dir', join(dir, 'no-coordinator-here')], 60_000, env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/set DATABASE_URL/);
    expect(none.stderr).toMatch(/chorus coordinator --data-dir/);
    const port = await chorus(['dashboard', '--port', 'eighty'], 60_000, env);
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/--port must be a port number/);
  });

  it('demo runs the whole stack (embedded Postgres, worker processes) and exits when asked', async () => {
    const config = join(dir, 'demo.json');
    await writeFile(config, JSON.stringify({ dataset: 'synthetic', members: 2, epochs: 2, trainLimit: 600 }));
    const r = await chorus(
      ['demo', '--port', '0', '--no-dashboard', '--workers', '2', '--data-dir', join(dir, 'demo-data'), '--config', config, '--exit-when-done', '--json'],
      240_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(lastLine(r.stdout)) as { runId: string };
    RunResultSchema.parse(out);
    expect(out.runId).toMatch(/\w+/);
    expect(r.stderr).toMatch(/2 local worker process/);
    // Deterministic: the distributed run equals the same run trained in one process.
    // Same backend choice (auto) as the demo's workers.
    const local = await chorus(['train', '--config', config, '--json']);
    const { runId: _runId, ...distributed } = out as Record<string, unknown>;
    const single = JSON.parse(lastLine(local.stdout)) as Record<string, unknown>;
    const soft = (r: Record<string, unknown>) => (r.ensemble as { soft: { accuracy: number } }).soft.accuracy;
    expect(soft(distributed)).toBe(soft(single));
  }, 300_000);
});
