import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '@chorus/coordinator';
import { createTestDatabase, type TestDatabase } from '@chorus/db/testing';
import { createHttpClient, PROTOCOL_VERSION, WORKERS_NAMESPACE, type RunDetail } from '@chorus/protocol';
import { expectEventually } from './test-server';
import { readTlsTrust, type TlsTrust } from './tls-trust';
import { startWorker, type WorkerHandle } from './worker';

/**
 * A coordinator bound beyond loopback (0.0.0.0) over TLS, with a self-signed certificate made here
 * by the `openssl` binary: a worker that trusts it (`--ca`) connects over wss:// and trains; a
 * client that does not is refused by its own TLS check.
 */

const WORKER_TOKEN = 'worker-token-for-tls-tests-0123456789';
const ADMIN_TOKEN = 'admin-token-for-tls-tests-0123456789';
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

let database: TestDatabase;
let coordinator: RunningCoordinator;
let worker: WorkerHandle | undefined;
let dir: string;
let tls: TlsTrust;

/** A self-signed certificate for 127.0.0.1 and localhost (it is its own CA). */
function makeCertificate(into: string): { certFile: string; keyFile: string } {
  const certFile = join(into, 'cert.pem');
  const keyFile = join(into, 'key.pem');
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=chorus-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { certFile, keyFile };
}

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'chorus-tls-'));
  const files = makeCertificate(dir);
  tls = readTlsTrust(files.certFile);
  coordinator = await startCoordinator({
    host: '0.0.0.0',
    port: 0,
    dataDir: join(dir, 'data'),
    databaseUrl: database.connectionString,
    workerToken: WORKER_TOKEN,
    adminToken: ADMIN_TOKEN,
    tls: files,
    requireTls: true,
    logger: logger.child({ app: 'coordinator' }),
  });
});

afterAll(async () => {
  await worker?.close();
  await coordinator?.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('a worker that trusts the CA connects over wss:// and trains', async () => {
    expect(coordinator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    worker = await startWorker({
      coordinatorUrl: coordinator.url,
      token: WORKER_TOKEN,
      backend: 'cpu',
      name: 'tls-worker',
      cacheDir: join(dir, 'cache'),
      tls,
      logger: logger.child({ app: 'worker' }),
    });
    const client = createHttpClient({ baseUrl: coordinator.url, token: ADMIN_TOKEN, init: tls.fetchInit });
    const { id } = await client.createRun({
      body: {
        dataset: 'synthetic',
        model: 'mlp',
        members: 1,
        epochs: 1,
        batchSize: 16,
        trainLimit: 200,
        seed: 5,
      },
    });
    let run: RunDetail | undefined;
    await expectEventually(async () => {
      run = await client.getRun({ params: { id } });
      expect(['completed', 'failed', 'cancelled']).toContain(run.status);
    }, 120_000);
    expect(run?.status).toBe('completed');
    expect(run?.members[0]?.status).toBe('completed');
  });

  it('a client without the CA is refused by the certificate check', async () => {
    const noCa = createHttpClient({ baseUrl: coordinator.url, token: ADMIN_TOKEN });
    const error = await noCa.listRuns().then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: { cause?: { code?: string } } },
    );
    expect(error).toMatchObject({ code: 'unavailable' });
    expect(String(error?.cause?.cause?.code)).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);

    const socket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
      auth: { token: WORKER_TOKEN, protocolVersion: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const refused = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    socket.close();
    expect(
      String((refused as Error & { description?: { message?: string } }).description?.message ?? refused),
    ).toMatch(/self.signed|unable to verify/i);
  });

  it('refuses to start beyond loopback without TLS when TLS is required, and warns otherwise', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    await expect(
      startCoordinator({
        host: '0.0.0.0',
        port: 0,
        dataDir: join(dir, 'plain'),
        requireTls: true,
        logger: capture,
      }),
    ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without TLS/);
    const plain = await startCoordinator({
      host: '0.0.0.0',
      port: 0,
      dataDir: join(dir, 'plain'),
      databaseUrl: database.connectionString,
      logger: capture,
    });
    await plain.close();
    expect(lines.join('')).toMatch(
      /without TLS: tokens, run configs and results cross the network in clear text/,
    );
    expect(await readFile(join(dir, 'plain', 'tokens.json'), 'utf8')).toMatch(/viewerToken/);
  });
});
