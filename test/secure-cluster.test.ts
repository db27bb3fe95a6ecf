import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { RunResultSchema, TokensFileSchema } from '@chorus/protocol';
import { tempDir } from './support/cluster';
import { within } from './support/eventually';
import { ChorusProcess, killAll } from './support/processes';

/**
 * "Several machines" as README tells it, on one machine: `chorus coordinator --host 0.0.0.0` with a
 * self-signed certificate (made here by the `openssl` binary) and --require-tls, a `chorus worker`
 * trusting it with --ca, `chorus run --wait` with the admin token and `chorus runs` with the viewer
 * token; a CLI without the CA, or without a token, is refused. Every part a real process.
 */

const db = withTestDatabase();
let dir: { path: string; remove: () => Promise<void> };
let coordinator: ChorusProcess;
let url = '';
let cert = '';
const dataDir = () => join(dir.path, 'data');

async function chorus(args: string[], env: Record<string, string> = {}) {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, env);
  const exit = await within(proc.exited, 240_000, `chorus ${args.join(' ')} ends`);
  return { code: exit.code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

beforeAll(async () => {
  dir = await tempDir('chorus-e2e-tls-');
  cert = join(dir.path, 'cert.pem');
  const key = join(dir.path, 'key.pem');
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=chorus-e2e', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  coordinator = new ChorusProcess(
    'coordinator',
    [
      'coordinator',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--data-dir',
      dataDir(),
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--require-tls',
    ],
    { DATABASE_URL: db.connectionString, LOG_LEVEL: 'info' },
  );
  const match = await coordinator.waitForLine('stderr', /listening on (https:\/\/127\.0\.0\.1:\d+)/, 60_000);
  url = match[1] as string;
}, 120_000);

afterAll(async () => {
  await killAll();
  await dir?.remove();
});

describe('a coordinator bound beyond loopback, over TLS', () => {
  it('says every request needs a token', async () => {
    await coordinator.waitForLine('stderr', /^every request needs a token here/, 10_000);
  });

  it('a worker with --ca trains a run launched with the admin token; runs reads with the viewer token', async () => {
    const tokens = TokensFileSchema.parse(JSON.parse(await readFile(join(dataDir(), 'tokens.json'), 'utf8')));
    const worker = new ChorusProcess(
      'worker',
      ['worker', '--coordinator', url, '--ca', cert, '--backend', 'cpu', '--name', 'tls-worker'],
      {
        CHORUS_WORKER_TOKEN: tokens.workerToken,
        CHORUS_CACHE_DIR: join(dir.path, 'cache'),
        LOG_LEVEL: 'info',
      },
    );
    await worker.waitForLine('stdout', /"msg":"connected to the coordinator"/, 60_000);

    const run = await chorus(
      [
        'run',
        '--coordinator',
        url,
        '--ca',
        cert,
        '--dataset',
        'synthetic',
        '--members',
        '2',
        '--epochs',
        '2',
        '--train-limit',
        '300',
        '--seed',
        '3',
        '--wait',
        '--json',
      ],
      { CHORUS_ADMIN_TOKEN: tokens.adminToken },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = RunResultSchema.parse(JSON.parse(run.stdout.trim().split('\n').pop() ?? ''));
    expect(result.members).toHaveLength(2);

    // The viewer token from the coordinator's tokens.json (CHORUS_DATA_DIR): reads, over TLS.
    const runs = await chorus(['runs', '--coordinator', url, '--ca', cert, '--json'], {
      CHORUS_DATA_DIR: dataDir(),
    });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain('"status":"completed"');
  });

  it('refuses a client without the CA, and one without a token', async () => {
    const noCa = await chorus(['runs', '--coordinator', url], { CHORUS_VIEWER_TOKEN: 'x'.repeat(43) });
    expect(noCa.code).not.toBe(0);
    expect(noCa.stderr).toMatch(
      /cannot reach the coordinator at https:\/\/127\.0\.0\.1:\d+: fetch failed \(self.signed certificate\)/,
    );
    const noToken = await chorus(['workers', '--coordinator', url, '--ca', cert], {
      CHORUS_DATA_DIR: join(dir.path, 'nowhere'),
    });
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toMatch(/needs a token: send "Authorization: Bearer <token>" with the viewer/);
  });
});
