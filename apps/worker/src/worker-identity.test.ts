import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunConfig, WORKER_IDENTITY_REFUSED, WORKERS_NAMESPACE } from '@chorus/protocol';
import { expectEventually, startFakeCoordinator } from './test-server';
import { startWorker } from './worker';
import { claimWorkerId } from './worker-identity';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const cacheDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-worker-id-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

const newSecret = (): string => randomBytes(32).toString('base64url');

describe('claimWorkerId', () => {
  it('keeps the id across restarts, and gives a second process on the same directory its own', async () => {
    const dir = await cacheDir();
    const first = await claimWorkerId(dir);
    expect(first.file).toBe(join(dir, 'worker-ids', '0.id'));
    expect(first.secret).toBeNull();
    const secret = newSecret();
    await first.adopt(first.workerId, secret);
    expect(await readFile(first.file as string, 'utf8')).toBe(`${first.workerId}\n${secret}\n`);
    // The secret is the worker's identity: only its owner reads the file.
    expect((await stat(first.file as string)).mode & 0o777).toBe(0o600);
    const second = await claimWorkerId(dir);
    expect(second.workerId).not.toBe(first.workerId);
    expect(second.file).toBe(join(dir, 'worker-ids', '1.id'));
    await first.release();
    const restarted = await claimWorkerId(dir);
    expect(restarted.workerId).toBe(first.workerId);
    expect(restarted.secret).toBe(secret);
    await Promise.all([second.release(), restarted.release()]);
  });

  it('takes a new id when the secret is lost, and after renew()', async () => {
    const dir = await cacheDir();
    const first = await claimWorkerId(dir);
    await first.adopt(first.workerId, newSecret());
    await first.release();
    // The secret's line lost (or a file written before secrets): the id alone proves nothing.
    await writeFile(first.file as string, `${first.workerId}\n`);
    const again = await claimWorkerId(dir);
    expect(again.workerId).not.toBe(first.workerId);
    expect(again.secret).toBeNull();
    // A secret issued to an id given up meanwhile is not kept.
    const old = again.workerId;
    again.renew();
    expect(again.workerId).not.toBe(old);
    await again.adopt(old, newSecret());
    expect(again.secret).toBeNull();
    await again.release();
  });

  it('takes over the id of a process that was killed, not of one that runs', async () => {
    const dir = await cacheDir();
    const first = await claimWorkerId(dir);
    await first.adopt(first.workerId, newSecret());
    await first.release();
    // A process that held id 0 and died without releasing it (its lock names a pid that is gone).
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(dir, 'worker-ids', '0.lock'), `${hostname()} ${gone}`);
    const afterKill = await claimWorkerId(dir);
    expect(afterKill.workerId).toBe(first.workerId);
    await afterKill.release();
    // A process that runs still holds it.
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    cleanup.push(() => alive.kill());
    await writeFile(join(dir, 'worker-ids', '0.lock'), `${hostname()} ${alive.pid}`);
    const beside = await claimWorkerId(dir);
    expect(beside.workerId).not.toBe(first.workerId);
    await beside.release();
  });
});

describe('startWorker', () => {
  it('registers under the same id after a restart with the same cache directory', async () => {
    const token = 'identity-token';
    const config = parseRunConfig({ dataset: 'synthetic', model: 'mlp', members: 1, epochs: 1 });
    const coordinator = await startFakeCoordinator({ token, config });
    cleanup.push(() => coordinator.close());
    const dir = await cacheDir();
    const options = { coordinatorUrl: coordinator.url, token, backend: 'cpu' as const, cacheDir: dir };
    const logger = pino({ level: 'silent' });
    const first = await startWorker({ ...options, logger });
    // The fake coordinator issues a secret on connection; the worker writes it beside its id.
    const file = join(dir, 'worker-ids', '0.id');
    await expectEventually(async () =>
      expect((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]).toBe(first.workerId),
    );
    await first.close();
    const second = await startWorker({ ...options, logger });
    await second.close();
    expect(second.workerId).toBe(first.workerId);
  });

  it('registers under a new id when the coordinator refuses its id and secret', async () => {
    const token = 'identity-token';
    const config = parseRunConfig({ dataset: 'synthetic', model: 'mlp', members: 1, epochs: 1 });
    const coordinator = await startFakeCoordinator({ token, config });
    cleanup.push(() => coordinator.close());
    const dir = await cacheDir();
    // A kept identity the coordinator no longer honours (its id was registered with another secret).
    const kept = await claimWorkerId(dir);
    await kept.adopt(kept.workerId, newSecret());
    await kept.release();
    coordinator.io.of(WORKERS_NAMESPACE).use((socket, next) => {
      const auth = socket.handshake.auth as { workerId?: unknown };
      if (auth.workerId !== kept.workerId) return next();
      next(
        Object.assign(new Error('worker id registered with another session secret'), {
          data: { code: 'forbidden', reason: WORKER_IDENTITY_REFUSED },
        }),
      );
    });
    const worker = await startWorker({
      coordinatorUrl: coordinator.url,
      token,
      backend: 'cpu',
      cacheDir: dir,
      logger: pino({ level: 'silent' }),
      reconnectMinMs: 10,
    });
    cleanup.push(() => worker.close());
    expect(worker.workerId).not.toBe(kept.workerId);
    // The secret issued to the new id replaces the refused identity in the file.
    await expectEventually(async () =>
      expect((await readFile(join(dir, 'worker-ids', '0.id'), 'utf8')).split('\n')[0]).toBe(worker.workerId),
    );
  });
});
