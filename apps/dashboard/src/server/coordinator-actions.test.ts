/**
 * The dashboard's control actions (Next server actions) against a real `chorus coordinator`
 * process on a real database: a launch goes through the coordinator's own checks, and no answer
 * quotes the caller's token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRepositories } from '@chorus/db/client';
import { withTestDatabase } from '@chorus/db/testing';
import { adminTokenRefused, ENTER_ADMIN_TOKEN } from '../lib/admin-token-words';
import { cancelRun, drainWorker, launchRun, predictRun } from './coordinator-actions';

// Next's guard that keeps server modules out of browser bundles; there is no bundle here.
vi.mock('server-only', () => ({}));

const ADMIN = 'admin-token-for-dashboard-actions-42';
const WORKER = 'worker-token-for-dashboard-actions';
const db = withTestDatabase();
let coordinator: ChildProcess | undefined;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-actions-'));
  const chorus = resolve(import.meta.dirname, '../../../../bin/chorus.mjs');
  const child = spawn(process.execPath, [chorus, 'coordinator', '--port', '0', '--data-dir', dataDir], {
    env: {
      ...process.env,
      DATABASE_URL: db.connectionString,
      CHORUS_WORKER_TOKEN: WORKER,
      CHORUS_ADMIN_TOKEN: ADMIN,
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  coordinator = child;
  const url = await new Promise<string>((done, fail) => {
    let seen = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match?.[1]) done(match[1]);
    });
    child.once('exit', (code) => fail(new Error(`chorus coordinator exited (${code}):\n${seen}`)));
  });
  // The dashboard server's holder (server/repositories.ts), filled as its parseEnv would.
  Object.assign(globalThis, {
    __chorusDashboard: {
      env: { databaseUrl: db.connectionString, coordinatorUrl: url, publicCoordinatorUrl: url },
      repos: createRepositories(db.prisma),
    },
  });
}, 120_000);
afterAll(async () => {
  if (coordinator && coordinator.exitCode === null) {
    const exited = new Promise((done) => coordinator?.once('exit', done));
    coordinator.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the dashboard's launch action", () => {
  it("is refused by the coordinator's datasetPath rules, without a byte of the file", async () => {
    const result = await launchRun(ADMIN, { dataset: 'digits', datasetPath: '/proc/self/environ' });
    expect(result).toEqual({
      ok: false,
      status: 400,
      message: 'datasetPath: /proc/self/environ: not a dataset location (a system pseudo-file)',
    });
  });

  it('is refused when a member is over the coordinator’s parameter limit (the New run form shows this)', async () => {
    const result = await launchRun(ADMIN, {
      dataset: 'fashion-mnist',
      model: 'fashion-dnn',
      members: 2,
      memberOverrides: [{ member: 1, width: 8192 }],
    });
    expect(result).toEqual({
      ok: false,
      status: 400,
      message:
        'member 1 (width 8192) has 207,863,818 parameters: over the limit of 50,000,000 parameters per member ' +
        '(a fashion-dnn is 1,195,018 at its default width 512; `width` is the units of its widest hidden layer) ' +
        "(the coordinator's CHORUS_MAX_MEMBER_PARAMS)",
    });
  });

  it("never echoes the caller's token", async () => {
    const secret = 'typed-by-the-user-0d7c1e';
    for (const token of [`${secret}\nX-Injected: 1`, `${secret} extra`, `${secret}\u00e9`]) {
      const launched = await launchRun(token, { dataset: 'synthetic', members: 2 });
      expect(launched).toMatchObject({ ok: false, status: 401 });
      expect(JSON.stringify(launched)).not.toContain(secret);
      const cancelled = await cancelRun(token, 'some-run');
      expect(cancelled).toMatchObject({ ok: false, status: 401 });
      expect(JSON.stringify(cancelled)).not.toContain(secret);
    }
    // A well-formed wrong token: the coordinator's refusal, which names no token either.
    const wrong = await launchRun(`${secret}-wrong`, { dataset: 'synthetic', members: 2 });
    expect(wrong).toMatchObject({ ok: false, status: 401 });
    expect(JSON.stringify(wrong)).not.toContain(secret);
  });

  it("says a refused token in the page's words, not the HTTP header a client would send", async () => {
    const unknown = await cancelRun('not-any-of-its-tokens-0123456789', 'some-run');
    expect(unknown).toEqual({ ok: false, status: 401, message: adminTokenRefused(401) });
    // The worker token is one of the coordinator's, of the wrong kind: 403.
    const worker = await launchRun(WORKER, { dataset: 'synthetic', members: 2 });
    expect(worker).toEqual({ ok: false, status: 403, message: adminTokenRefused(403) });
    for (const refusal of [unknown, worker]) {
      if (refusal.ok) throw new Error('accepted');
      expect(refusal.message).not.toMatch(/Authorization|Bearer/);
      expect(refusal.message).toContain('npx chorus tokens');
    }
    expect(await launchRun('', { dataset: 'synthetic', members: 2 })).toEqual({
      ok: false,
      status: 401,
      message: ENTER_ADMIN_TOKEN,
    });
  });
});

describe("the dashboard's predict action (the try-it panel)", () => {
  it("forwards the coordinator's refusals: a run not completed (409), a wrong token (401)", async () => {
    const launched = await launchRun(ADMIN, { dataset: 'synthetic', members: 2 });
    if (!launched.ok) throw new Error(launched.message);
    const row = new Array(64).fill(0.5);
    expect(await predictRun(ADMIN, launched.id, [row])).toEqual({
      ok: false,
      status: 409,
      message: `run ${launched.id} is pending: only a completed run's ensemble predicts`,
    });
    const wrong = await predictRun('not-the-admin-token-0123456789', launched.id, [row]);
    expect(wrong).toMatchObject({ ok: false, status: 401 });
    expect(JSON.stringify(wrong)).not.toContain('not-the-admin-token');
  });

  it('refuses rows that are not numbers and a bad run id before asking the coordinator', async () => {
    expect(await predictRun(ADMIN, 'some-run', [['1', 2]])).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringContaining('rows.0.0'),
    });
    expect(await predictRun(ADMIN, '../etc', [[1]])).toMatchObject({ ok: false, status: 400 });
    expect(await predictRun('', 'some-run', [[1]])).toMatchObject({ ok: false, status: 401 });
  });
});

describe("the dashboard's drain action", () => {
  it('forwards to POST /api/workers/:id/drain with the admin token and shows its refusals', async () => {
    const workerId = '3f1c9a2e-0000-4000-8000-000000000001';
    // Not a worker this coordinator knows.
    expect(await drainWorker(ADMIN, workerId)).toMatchObject({ ok: false, status: 404 });
    expect((await drainWorker(ADMIN, workerId)) as { message: string }).toMatchObject({
      message: expect.stringContaining(`no worker ${workerId}`),
    });
    // The token is checked before anything else; a malformed id never reaches the coordinator.
    expect(await drainWorker('wrong-admin-token-000000', workerId)).toMatchObject({ ok: false, status: 401 });
    expect(await drainWorker('', workerId)).toMatchObject({ ok: false, status: 401 });
    expect(await drainWorker(ADMIN, '../runs')).toEqual({
      ok: false,
      status: 400,
      message: 'not a worker id',
    });
  });
});
