import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, startTestServer, type TestServer } from './test-server';

/** `npx chorus worker` as a real process: signals and refused handshakes decide its exit code. */

const TOKEN = 'main-test-token';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let server: TestServer;
let cacheDir: string;
let connected = 0;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'chorus-worker-main-'));
  server = await startTestServer({
    token: TOKEN,
    onConnection: (socket) => {
      connected++;
      socket.on('member:request', (_p, ack) => ack({ ok: true, assignment: null }));
      socket.on('heartbeat', (_p, ack) => ack({ ok: true, revoked: [] }));
      socket.on('disconnect', () => connected--);
    },
  });
});

afterAll(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

function startProcess(token: string, extra: string[] = []) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHORUS_')));
  const child = spawn(
    process.execPath,
    [
      'bin/chorus.mjs',
      'worker',
      '--coordinator',
      server.url,
      '--token',
      token,
      '--backend',
      'cpu',
      '--cache-dir',
      cacheDir,
      ...extra,
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('chorus worker (process)', () => {
  it('exits 0 on SIGINT after disconnecting', async () => {
    const worker = startProcess(TOKEN);
    await expectEventually(() => expect(connected).toBe(1), 60_000);
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toMatch(/worker stopped/);
    await expectEventually(() => expect(connected).toBe(0));
  });

  it('drains on SIGTERM and exits 0; serves /health and /metrics on the ports its flags name', async () => {
    const worker = startProcess(TOKEN, ['--health-port', '0', '--metrics-port', '0', '--log-format', 'json']);
    await expectEventually(() => expect(connected).toBe(1), 60_000);
    const urlOf = (msg: string) => {
      const line = worker
        .output()
        .split('\n')
        .find((l) => l.includes(`"msg":"${msg}"`));
      return (JSON.parse(line ?? '{}') as { url?: string }).url;
    };
    const health = urlOf('serving health');
    const metrics = urlOf('serving Prometheus metrics');
    expect(health).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/health$/);
    expect(metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const answer = await fetch(health!);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ connected: true, membersHeld: 0 });
    expect(await (await fetch(metrics!)).text()).toMatch(/^chorus_worker_members_held 0$/m);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toMatch(/draining: handing members back/);
    expect(worker.output()).toMatch(/worker stopped/);
    await expectEventually(() => expect(connected).toBe(0));
  });

  it('exits non-zero, saying why, when the coordinator refuses its token', async () => {
    const worker = startProcess('not-the-token');
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toMatch(/refused this worker: unauthorized.*--token/);
    expect(worker.output()).toContain('`npx chorus tokens --data-dir DIR` on its machine prints it');
  });
});
