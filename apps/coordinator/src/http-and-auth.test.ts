import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { HOW_TO_GET } from '@chorus/data';
import {
  CHORUS_VERSION,
  DASHBOARD_NAMESPACE,
  DATASET_NAMES,
  ErrorBodySchema,
  PROTOCOL_VERSION,
} from '@chorus/protocol';
import { startCoordinator } from './coordinator';
import {
  ADMIN_TOKEN,
  connectWorker,
  handshake,
  httpClient,
  WORKER_TOKEN,
  withCoordinator,
} from './testing/harness';

const fixture = withCoordinator();
const tinyRun = {
  dataset: 'synthetic',
  members: 2,
  epochs: 1,
  batchSize: 64,
  trainLimit: 300,
  seed: 3,
} as const;

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
    // Another Chorus version, none (an older worker), or a backend it cannot train with: each said plainly.
    await expect(connectWorker(fixture.coordinator, handshake({ chorusVersion: '9.9.9' }))).rejects.toThrow(
      `worker is Chorus 9.9.9, this coordinator is Chorus ${CHORUS_VERSION}: run the same version on both`,
    );
    const { chorusVersion: _v, ...unversioned } = handshake();
    await expect(connectWorker(fixture.coordinator, unversioned)).rejects.toThrow(
      `this worker does not say its Chorus version (it is older than ${CHORUS_VERSION}): run Chorus ${CHORUS_VERSION}`,
    );
    const tpu = (await connectWorker(fixture.coordinator, { ...handshake(), backend: 'tpu' }).then(
      () => new Error('connected'),
      (e: unknown) => e,
    )) as Error & { data?: { code?: string } };
    expect(tpu.message).toBe(
      'backend "tpu" is not one this coordinator can train with (tensorflow, webgpu, wasm, cpu): start the worker with --backend tensorflow|webgpu|wasm|cpu',
    );
    expect(tpu.data?.code).toBe('invalid-input');
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
    const workers = await httpClient(fixture.coordinator).listWorkers();
    expect(workers.workers).toEqual([
      expect.objectContaining({ id: auth.workerId, name: 'gpu-0', status: 'online' }),
    ]);
    // A payload that fails its schema is refused with a reason naming the field, and nothing is applied.
    const refused = await socket.emitWithAck('heartbeat', { members: [{ memberId: 'm', attempt: 0 }] });
    expect(refused).toMatchObject({ ok: false, code: 'invalid-input' });
    expect(!refused.ok && refused.message).toMatch(/^invalid heartbeat message:\nmembers\.0\.attempt: /);
    const point = { step: 1, epoch: 0, loss: 0.5, accuracy: 0.5, samplesPerSecond: 10 };
    const raw = socket as unknown as { emitWithAck(event: string, payload: unknown): Promise<unknown> };
    const metrics = await raw.emitWithAck('metrics', {
      memberId: 'm',
      attempt: 1,
      points: [point, { ...point, step: 2, loss: 'NaN' }],
    });
    expect(metrics).toEqual({
      ok: false,
      code: 'invalid-input',
      message: 'invalid metrics message:\npoints.1.loss: Invalid input: expected number, received string',
    });
    const noPayload = await raw.emitWithAck('plan:next', undefined);
    expect(noPayload).toMatchObject({
      ok: false,
      code: 'invalid-input',
      message: /^invalid plan:next message:\n\(message\): /,
    });
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
    expect(await httpClient(fixture.coordinator).health()).toMatchObject({
      ok: true,
      protocolVersion: PROTOCOL_VERSION,
    });
    expect(await httpClient(fixture.coordinator).listRuns()).toEqual({ runs: [] });
  });

  it('lists every dataset with whether it is here and how to get it', async () => {
    const { datasets } = await httpClient(fixture.coordinator).listDatasets();
    expect(datasets.map((d) => [d.name, d.howToGet])).toEqual(DATASET_NAMES.map((n) => [n, HOW_TO_GET[n]]));
    // Generated from the seed: always here. An absent one says why.
    expect(datasets.find((d) => d.name === 'synthetic')).toMatchObject({ present: true, trainCount: 2000 });
    for (const d of datasets.filter((x) => !x.present)) expect(d.problem).toMatch(/\S/);
  });

  it('needs the admin token to launch or cancel a run', async () => {
    for (const token of [undefined, 'nope']) {
      await expect(httpClient(fixture.coordinator, token).createRun({ body: tinyRun })).rejects.toMatchObject(
        {
          status: 401,
          code: 'unauthorized',
        },
      );
    }
    // A token of ours of the wrong kind (access.test.ts covers every route).
    await expect(
      httpClient(fixture.coordinator, WORKER_TOKEN).createRun({ body: tinyRun }),
    ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    // The client checks the status of a success: 201 Created.
    const created = await httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({ body: tinyRun });
    const params = { id: created.id };
    await expect(httpClient(fixture.coordinator, WORKER_TOKEN).cancelRun({ params })).rejects.toMatchObject({
      status: 403,
    });
    expect((await fixture.repos.runs.get(created.id))?.status).toBe('pending');

    const admin = httpClient(fixture.coordinator, ADMIN_TOKEN);
    expect(await admin.cancelRun({ params })).toEqual({ id: created.id, status: 'cancelled' });
    expect(await admin.cancelRun({ params })).toEqual({ id: created.id, status: 'cancelled' });
    await expect(admin.cancelRun({ params: { id: 'nope' } })).rejects.toMatchObject({ status: 404 });
  });

  it('refuses an invalid run config with 400 and every issue', async () => {
    // A body the typed client cannot express, sent by hand.
    const response = await fetch(`${fixture.coordinator.url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataset: 'cifar', members: 0, batchSize: 64, surprise: true, epoch: 3 }),
    });
    expect(response.status).toBe(400);
    const body = ErrorBodySchema.parse(await response.json());
    expect(body.code).toBe('invalid-input');
    const issues = body.issues ?? [];
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['dataset', 'members']));
    expect(issues.some((i) => /surprise/.test(i.message))).toBe(true);
    // The nearest known key, as `chorus train --config` says it (parseRunConfig).
    expect(issues).toContainEqual({
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
    await expect(
      httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({ body: { dataset: 'sign-mnist', members: 2 } }),
    ).rejects.toMatchObject({
      status: 400,
      reason: expect.stringMatching(/Dataset sign-mnist not found.*kaggle/),
    });
  });

  it('refuses a config the dataset cannot serve (too few batches for round-robin)', async () => {
    await expect(
      httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({
        body: { dataset: 'synthetic', members: 8, batchSize: 4096 },
      }),
    ).rejects.toMatchObject({ status: 400, reason: expect.stringMatching(/round-robin/) });
  });

  it('validates params and guards downloads with the worker token', async () => {
    const client = httpClient(fixture.coordinator);
    const worker = httpClient(fixture.coordinator, WORKER_TOKEN);
    const refused = (status: number) => expect.objectContaining({ status });
    // The client URI-encodes params: the server sees /api/runs/..%2F..%2Fetc.
    await expect(client.getRun({ params: { id: '../../etc' } })).rejects.toEqual(refused(400));
    await expect(client.getRun({ params: { id: 'unknown-run' } })).rejects.toEqual(refused(404));
    const sha256 = '0'.repeat(64);
    await expect(client.getDataset({ params: { sha256 } })).rejects.toEqual(refused(401));
    await expect(worker.getDataset({ params: { sha256 } })).rejects.toEqual(refused(404));
    await expect(worker.getDataset({ params: { sha256: 'not-a-sha' } })).rejects.toEqual(refused(400));
    await expect(worker.getCheckpoint({ params: { memberId: 'm1', epoch: 'x' } })).rejects.toEqual(
      refused(400),
    );
    await expect(client.getCheckpoint({ params: { memberId: 'm1', epoch: 0 } })).rejects.toEqual(
      refused(401),
    );
    const nothing = await fetch(`${fixture.coordinator.url}/api/nothing-here`);
    expect(ErrorBodySchema.parse(await nothing.json())).toMatchObject({ ok: false, code: 'not-found' });
  });

  it('refuses to answer with a stored shape that does not match its schema', async () => {
    const created = await httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({ body: tinyRun });
    await fixture.prisma.run.update({
      where: { id: created.id },
      data: { config: { ...tinyRun, members: 'two' } },
    });
    // An internal error (its details, naming Run.config and the field, go to the log), never a half-right answer.
    await expect(
      httpClient(fixture.coordinator).getRun({ params: { id: created.id } }),
    ).rejects.toMatchObject({
      status: 500,
      code: 'internal',
    });
    await fixture.prisma.run.update({ where: { id: created.id }, data: { config: tinyRun } });
    await httpClient(fixture.coordinator, ADMIN_TOKEN).cancelRun({ params: { id: created.id } });
  });

  it('lets dashboards join a run room read-only', async () => {
    const created = await httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({ body: tinyRun });
    const dashboard = io(`${fixture.coordinator.url}${DASHBOARD_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise((resolve) => dashboard.once('connect', () => resolve(undefined)));
    expect(await dashboard.emitWithAck('run:join', { runId: created.id })).toEqual({ ok: true });
    expect(await dashboard.emitWithAck('run:join', { runId: 'missing' })).toMatchObject({
      ok: false,
      code: 'not-found',
    });
    const changed = new Promise((resolve) => dashboard.once('run:changed', resolve));
    await httpClient(fixture.coordinator, ADMIN_TOKEN).cancelRun({ params: { id: created.id } });
    expect(await changed).toEqual({ runId: created.id, kind: 'status', data: { status: 'cancelled' } });
    dashboard.close();
  });
});
