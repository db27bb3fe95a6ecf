import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_NAMESPACE, PROTOCOL_VERSION } from '@chorus/protocol';
import { startCoordinator } from './coordinator';
import { ADMIN_TOKEN, api, connectWorker, handshake, WORKER_TOKEN, withCoordinator } from './testing/harness';

const fixture = withCoordinator();
const tinyRun = { dataset: 'synthetic', members: 2, epochs: 1, batchSize: 64, trainLimit: 300, seed: 3 };

describe('worker handshake', () => {
  it('refuses a connection without a token, with a wrong token or another protocol version', async () => {
    const { token: _token, ...noToken } = handshake();
    await expect(connectWorker(fixture.coordinator, noToken)).rejects.toThrow(/invalid worker token/);
    await expect(connectWorker(fixture.coordinator, handshake({ token: 'x'.repeat(40) }))).rejects.toThrow(
      /invalid worker token/,
    );
    await expect(connectWorker(fixture.coordinator, handshake({ token: ADMIN_TOKEN }))).rejects.toThrow(
      /invalid worker token/,
    );
    await expect(
      connectWorker(fixture.coordinator, handshake({ protocolVersion: PROTOCOL_VERSION + 1 })),
    ).rejects.toThrow(
      new RegExp(`protocol version ${PROTOCOL_VERSION + 1} is not supported.*version ${PROTOCOL_VERSION}`),
    );
    await expect(
      connectWorker(fixture.coordinator, { ...handshake(), workerId: 'not-a-uuid' }),
    ).rejects.toThrow(/invalid worker handshake[\s\S]*workerId/);
    const error = await connectWorker(
      fixture.coordinator,
      handshake({ token: 'wrong-token-wrong-token' }),
    ).catch((e: unknown) => e);
    expect((error as { data?: { code?: string } }).data?.code).toBe('unauthorized');
    expect(await fixture.repos.workers.list()).toEqual([]);
  });

  it('accepts a worker with the token and registers it online', async () => {
    const auth = handshake({ name: 'gpu-0' });
    const socket = await connectWorker(fixture.coordinator, auth);
    const workers = await api<{ workers: Array<{ id: string; name: string; status: string }> }>(
      fixture.coordinator,
      'GET',
      '/api/workers',
    );
    expect(workers.body.workers).toEqual([
      expect.objectContaining({ id: auth.workerId, name: 'gpu-0', status: 'online' }),
    ]);
    // A payload that fails its schema is refused with a reason.
    const refused = await socket.emitWithAck('heartbeat', { members: [{ memberId: 'm', attempt: 0 }] });
    expect(refused).toMatchObject({ ok: false, code: 'invalid-input' });
    socket.close();
  });

  it('serves nothing on the root namespace', async () => {
    const socket = io(fixture.coordinator.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(error.message).toMatch(/\/workers.*\/dashboard/);
    socket.close();
  });
});

describe('HTTP API', () => {
  it('says so when its port is taken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chorus-port-'));
    try {
      await expect(
        startCoordinator({
          port: fixture.coordinator.port,
          dataDir,
          databaseUrl: fixture.connectionString,
          workerToken: WORKER_TOKEN,
          adminToken: ADMIN_TOKEN,
          logger: pino({ level: 'silent' }),
        }),
      ).rejects.toThrow(new RegExp(`port ${fixture.coordinator.port} on 127.0.0.1 is already in use`));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('answers health and lists runs', async () => {
    expect((await api(fixture.coordinator, 'GET', '/api/health')).body).toMatchObject({
      ok: true,
      protocolVersion: PROTOCOL_VERSION,
    });
    expect((await api(fixture.coordinator, 'GET', '/api/runs')).body).toEqual({ runs: [] });
  });

  it('needs the admin token to launch or cancel a run', async () => {
    for (const token of [undefined, WORKER_TOKEN, 'nope']) {
      const launch = await api(fixture.coordinator, 'POST', '/api/runs', {
        body: tinyRun,
        ...(token && { token }),
      });
      expect(launch.status).toBe(401);
      expect(launch.body).toMatchObject({ ok: false, code: 'unauthorized' });
    }
    const created = await api<{ id: string }>(fixture.coordinator, 'POST', '/api/runs', {
      token: ADMIN_TOKEN,
      body: tinyRun,
    });
    expect(created.status).toBe(201);
    const cancel = await api(fixture.coordinator, 'POST', `/api/runs/${created.body.id}/cancel`, {
      token: WORKER_TOKEN,
    });
    expect(cancel.status).toBe(401);
    expect((await fixture.repos.runs.get(created.body.id))?.status).toBe('pending');

    const cancelled = await api(fixture.coordinator, 'POST', `/api/runs/${created.body.id}/cancel`, {
      token: ADMIN_TOKEN,
    });
    expect(cancelled).toMatchObject({ status: 200, body: { id: created.body.id, status: 'cancelled' } });
    expect(
      (await api(fixture.coordinator, 'POST', `/api/runs/${created.body.id}/cancel`, { token: ADMIN_TOKEN }))
        .status,
    ).toBe(200);
    expect(
      (await api(fixture.coordinator, 'POST', '/api/runs/nope/cancel', { token: ADMIN_TOKEN })).status,
    ).toBe(404);
  });

  it('refuses an invalid run config with 400 and every issue', async () => {
    const response = await api<{ code: string; issues: Array<{ path: string; message: string }> }>(
      fixture.coordinator,
      'POST',
      '/api/runs',
      {
        token: ADMIN_TOKEN,
        body: { dataset: 'cifar', members: 0, batchSize: 64, surprise: true, epoch: 3 },
      },
    );
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid-input');
    const paths = response.body.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['dataset', 'members']));
    expect(response.body.issues.some((i) => /surprise/.test(i.message))).toBe(true);
    expect(response.body.issues).toContainEqual({
      path: '(config)',
      message: 'unknown key "epoch" (did you mean "epochs"?)',
    });

    const notJson = await fetch(`${fixture.coordinator.url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
  });

  it("refuses a run whose dataset is missing, with the dataset's own message", async () => {
    const response = await api<{ message: string }>(fixture.coordinator, 'POST', '/api/runs', {
      token: ADMIN_TOKEN,
      body: { dataset: 'sign-mnist', members: 2 },
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/Dataset sign-mnist not found.*kaggle/);
  });

  it('refuses a config the dataset cannot serve (too few batches for round-robin)', async () => {
    const response = await api<{ message: string }>(fixture.coordinator, 'POST', '/api/runs', {
      token: ADMIN_TOKEN,
      body: { dataset: 'synthetic', members: 8, batchSize: 4096 },
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/round-robin/);
  });

  it('validates params and guards downloads with the worker token', async () => {
    expect((await api(fixture.coordinator, 'GET', '/api/runs/..%2F..%2Fetc')).status).toBe(400);
    expect((await api(fixture.coordinator, 'GET', '/api/runs/unknown-run')).status).toBe(404);
    const sha = '0'.repeat(64);
    expect((await api(fixture.coordinator, 'GET', `/api/datasets/${sha}`)).status).toBe(401);
    expect(
      (await api(fixture.coordinator, 'GET', `/api/datasets/${sha}`, { token: WORKER_TOKEN })).status,
    ).toBe(404);
    expect(
      (await api(fixture.coordinator, 'GET', '/api/datasets/not-a-sha', { token: WORKER_TOKEN })).status,
    ).toBe(400);
    expect(
      (await api(fixture.coordinator, 'GET', '/api/checkpoints/m1/x', { token: WORKER_TOKEN })).status,
    ).toBe(400);
    expect((await api(fixture.coordinator, 'GET', '/api/checkpoints/m1/0')).status).toBe(401);
    expect((await api(fixture.coordinator, 'GET', '/api/nothing-here')).body).toMatchObject({
      ok: false,
      code: 'not-found',
    });
  });

  it('lets dashboards join a run room read-only', async () => {
    const created = await api<{ id: string }>(fixture.coordinator, 'POST', '/api/runs', {
      token: ADMIN_TOKEN,
      body: tinyRun,
    });
    const dashboard = io(`${fixture.coordinator.url}${DASHBOARD_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise((resolve) => dashboard.once('connect', () => resolve(undefined)));
    expect(await dashboard.emitWithAck('run:join', { runId: created.body.id })).toEqual({ ok: true });
    expect(await dashboard.emitWithAck('run:join', { runId: 'missing' })).toMatchObject({
      ok: false,
      code: 'not-found',
    });
    const changed = new Promise((resolve) => dashboard.once('run:changed', resolve));
    await api(fixture.coordinator, 'POST', `/api/runs/${created.body.id}/cancel`, { token: ADMIN_TOKEN });
    expect(await changed).toEqual({ runId: created.body.id, kind: 'status', data: { status: 'cancelled' } });
    dashboard.close();
  });
});
