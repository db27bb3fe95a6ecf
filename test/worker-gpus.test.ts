import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { coordinatorApi, WORKER_TOKEN, withCluster } from './support/cluster';
import { expectEventually } from './support/eventually';
import { ChorusProcess } from './support/processes';

/**
 * `chorus worker --gpus all --backend webgpu`: the supervisor prints the GPUs it finds, starts one
 * worker per GPU named `<name>-gpu<i>` that reports its adapter as its device, and stops them all
 * on SIGTERM. On the CPU build machines the one "GPU" is Mesa llvmpipe (a software adapter, counted
 * only with CHORUS_WEBGPU_ALLOW_SOFTWARE=1); in CI .ci/run installs it, elsewhere its absence skips.
 */

const requireAdapter = Boolean(process.env.CI);
const db = withTestDatabase();
const cluster = withCluster(db, { workers: [] });

describe('chorus worker --gpus', () => {
  it('starts one named worker per GPU with its adapter as device, and stops them on SIGTERM', async (ctx) => {
    const cache = await cluster.tempDir('chorus-e2e-gpus-');
    const supervisor = new ChorusProcess(
      'worker --gpus',
      [
        'worker',
        '--gpus',
        'all',
        '--backend',
        'webgpu',
        '--coordinator',
        cluster.coordinator.url,
        '--name',
        'box',
      ],
      {
        CHORUS_WORKER_TOKEN: WORKER_TOKEN,
        CHORUS_CACHE_DIR: cache.path,
        CHORUS_WEBGPU_ALLOW_SOFTWARE: '1',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      },
    );
    const found = await supervisor.waitForLine('stderr', /^GPU 0: (.+)$/, 60_000).catch((e: unknown) => e);
    if (found instanceof Error) {
      if (requireAdapter || !/no GPU found/.test(found.message)) throw found;
      console.warn('test/worker-gpus.test.ts skipped: no WebGPU adapter on this machine');
      ctx.skip();
    }
    const worker = await expectEventually(
      async () => {
        const { workers } = await coordinatorApi(cluster.coordinator.url).listWorkers();
        const w = workers.find((x) => x.name === 'box-gpu0' && x.status === 'online');
        if (!w) throw new Error(`box-gpu0 not online yet (${workers.map((x) => x.name).join(', ')})`);
        return w;
      },
      90_000,
      { what: 'box-gpu0 registered with the coordinator' },
    );
    expect(worker.backend).toBe('webgpu');
    expect(worker.device).toMatch(/^GPU 0: .+\((vulkan|opengles)/);

    supervisor.signal('SIGTERM');
    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    const stopped = supervisor.jsonLines().filter((l) => l['msg'] === 'worker process stopped');
    expect(stopped.map((l) => l['gpu'])).toEqual([0]);
    await expectEventually(
      async () => {
        const { workers } = await coordinatorApi(cluster.coordinator.url).listWorkers();
        if (workers.find((x) => x.name === 'box-gpu0')?.status === 'online') throw new Error('still online');
      },
      30_000,
      { what: 'box-gpu0 gone offline' },
    );
  });

  it('exits with a clear message when --backend webgpu finds no hardware adapter', async () => {
    const cache = await cluster.tempDir('chorus-e2e-nogpu-');
    const env = { CHORUS_WORKER_TOKEN: WORKER_TOKEN, CHORUS_CACHE_DIR: cache.path, LOG_LEVEL: 'info' };
    const args = ['worker', '--backend', 'webgpu', '--coordinator', cluster.coordinator.url];
    for (const extra of [[], ['--gpus', 'all']]) {
      const worker = new ChorusProcess('worker webgpu', [...args, ...extra], env);
      // A machine with a GPU starts working instead: stop it and move on.
      const started = await Promise.race([
        worker.exited.then(() => false),
        worker.waitForLine('stdout', /tfjs backend ready|worker process started/, 120_000).then(
          () => true,
          () => false,
        ),
      ]);
      if (started) {
        worker.signal('SIGTERM');
        await worker.exited;
        continue;
      }
      const status = await worker.exited;
      expect(status.code).toBe(1);
      expect(worker.stderr.join('\n')).toMatch(
        extra.length === 0
          ? /backend 'webgpu' is not available: .*no usable WebGPU adapter .*CHORUS_WEBGPU_ALLOW_SOFTWARE=1/
          : /--gpus: no GPU found for --backend webgpu .*CHORUS_WEBGPU_ALLOW_SOFTWARE=1/,
      );
    }
  });
});
