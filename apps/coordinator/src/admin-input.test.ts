import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HttpError, type RunConfigInput } from '@chorus/protocol';
import { ADMIN_TOKEN, httpClient, withCoordinator } from './testing/harness';

/** Small enough for the tests to write files past it; the real default is 256 MiB. */
const MAX_BYTES = 200_000;
const fixture = withCoordinator({ datasetMaxBytes: MAX_BYTES });

/** A string nothing but the file holds: it must never come back in an answer. */
const SECRET = 'canary-0f3e9a-DATABASE_PASSWORD=hunter2';

/** POST /api/runs as a hostile admin client: the error answer (code, status, message), never a run. */
async function refusal(config: RunConfigInput): Promise<HttpError> {
  const error = await httpClient(fixture.coordinator, ADMIN_TOKEN)
    .createRun({ body: config })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

/** POST /api/runs with a raw body and content type. */
async function post(body: string, contentType = 'application/json') {
  const response = await fetch(`${fixture.coordinator.url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** sklearn digits rows: 64 pixels 0–16, then the label. */
const digitsCsv = (rows: number): string =>
  Array.from({ length: rows }, (_, i) =>
    [...Array.from({ length: 64 }, (_, j) => (i * 7 + j * 3) % 17), i % 10].join(','),
  ).join('\n');

describe('datasetPath: only regular files under the dataset roots, size-capped, never quoted', () => {
  it('refuses /dev/urandom and /proc/self/environ before reading them', async () => {
    const started = Date.now();
    const urandom = await refusal({ dataset: 'digits', datasetPath: '/dev/urandom', members: 2 });
    expect(urandom).toMatchObject({ code: 'invalid-input', status: 400 });
    expect(urandom.reason).toMatch(/^datasetPath: \/dev\/urandom: not a dataset location/);
    // Read for even a second, /dev/urandom would have grown the coordinator by gigabytes.
    expect(Date.now() - started).toBeLessThan(5_000);

    const environ = await refusal({ dataset: 'digits', datasetPath: '/proc/self/environ', members: 2 });
    expect(environ.reason).toMatch(/not a dataset location/);
    const firstVariable = readFileSync('/proc/self/environ', 'latin1').split('\0')[0] ?? '';
    expect(firstVariable.length).toBeGreaterThan(0);
    expect(environ.message).not.toContain(firstVariable);
  });

  it('resolves symbolic links first: a link in a root to a file outside it is refused', async () => {
    const links = join(fixture.dataDir, 'links');
    mkdirSync(links, { recursive: true });
    symlinkSync('/proc/self/environ', join(links, 'environ.csv'));
    symlinkSync('/etc/passwd', join(links, 'passwd.csv'));
    // A dataset directory whose files point out of the roots: each file is checked as it is read.
    const idx = join(links, 'mnist');
    mkdirSync(idx);
    for (const name of [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ]) {
      symlinkSync('/etc/passwd', join(idx, name));
    }

    const environ = await refusal({ dataset: 'digits', datasetPath: join(links, 'environ.csv') });
    expect(environ.reason).toMatch(/not a dataset location/);
    const passwd = await refusal({ dataset: 'digits', datasetPath: join(links, 'passwd.csv') });
    expect(passwd.reason).toMatch(/outside the dataset roots/);
    expect(passwd.message).not.toContain('root:');
    const dir = await refusal({ dataset: 'mnist', datasetPath: idx });
    // The images and labels are read concurrently: whichever is checked first is named.
    expect(dir.reason).toMatch(/train-(images-idx3|labels-idx1)-ubyte: outside the dataset roots/);
    // No path the schema refuses reaches the file system.
    const nul = await refusal({ dataset: 'digits', datasetPath: `${join(links, 'passwd.csv')}\0.csv` });
    expect(nul.issues).toEqual([{ path: 'datasetPath', message: 'must not contain a NUL character' }]);
    // Outside the roots altogether, with no link involved.
    const etc = await refusal({ dataset: 'digits', datasetPath: '/etc/hostname' });
    expect(etc.reason).toMatch(/outside the dataset roots/);
  });

  it('never quotes what it read from a file it cannot parse', async () => {
    const path = join(fixture.dataDir, 'secret.csv');
    writeFileSync(path, `${SECRET},1,2,3\n`);
    const error = await refusal({ dataset: 'digits', datasetPath: path });
    expect(error).toMatchObject({ code: 'invalid-input', status: 400 });
    expect(error.reason).toBe(
      `datasetPath: ${path} line 1 is not a digits file this coordinator reads (corrupt); \`chorus datasets --dataset-path\` on this machine says more`,
    );
    expect(error.message).not.toContain('canary');
    // The sign-mnist header check quotes the header it found (for the CLI): not here.
    const dir = join(fixture.dataDir, 'sign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sign_mnist_train.csv'), `${SECRET}\n`);
    writeFileSync(join(dir, 'sign_mnist_test.csv'), `${SECRET}\n`);
    const sign = await refusal({ dataset: 'sign-mnist', datasetPath: dir });
    expect(sign.message).not.toContain('canary');
  });

  it('refuses a file, or a gzip stream, larger than the cap before holding it all', async () => {
    const big = join(fixture.dataDir, 'big.csv');
    writeFileSync(big, digitsCsv(2_000)); // ≈ 300 kB > MAX_BYTES
    const error = await refusal({ dataset: 'digits', datasetPath: big });
    expect(error.reason).toMatch(new RegExp(`larger than ${MAX_BYTES} bytes`));
    // 60 kB of gzip that would inflate to 60 MB.
    const bomb = join(fixture.dataDir, 'bomb.csv.gz');
    writeFileSync(bomb, gzipSync(Buffer.alloc(60_000_000, 0x30)));
    expect(readFileSync(bomb).byteLength).toBeLessThan(MAX_BYTES);
    const inflated = await refusal({ dataset: 'digits', datasetPath: bomb });
    expect(inflated.reason).toMatch(new RegExp(`bomb.csv.gz: larger than ${MAX_BYTES} bytes`));
  });

  it('still launches from a dataset file under a root', async () => {
    const path = join(fixture.dataDir, 'digits.csv');
    writeFileSync(path, digitsCsv(600));
    const { id } = await httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({
      body: { dataset: 'digits', datasetPath: path, members: 2, epochs: 1, batchSize: 32 },
    });
    expect((await fixture.repos.runs.get(id))?.datasetName).toBe('digits');
    await httpClient(fixture.coordinator, ADMIN_TOKEN).cancelRun({ params: { id } });
  });
});

describe('request bodies', () => {
  it('refuses a body that is not a JSON object (400), never launching a default run', async () => {
    const before = await fixture.prisma.run.count();
    for (const body of ['null', '[]', '"mnist"', '5']) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ ok: false, code: 'invalid-input' });
      expect(answer.body.message).toMatch(/takes a JSON object as its body/);
    }
    const text = await post('{"members": 2}', 'text/plain');
    expect(text.status).toBe(400);
    expect(text.body).toMatchObject({ ok: false, code: 'invalid-input' });
    // Binary bodies reach the upload route as a stream: anywhere else they are not a JSON object.
    const binary = await post('{"members": 2}', 'application/octet-stream');
    expect(binary).toMatchObject({ status: 400, body: { code: 'invalid-input' } });
    expect(binary.body.message).toMatch(/takes a JSON object as its body .*got binary data/);
    expect(await fixture.prisma.run.count()).toBe(before);
  });

  it('answers an oversized body 413 with an error body', async () => {
    const answer = await post(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({
      ok: false,
      code: 'too-large',
      message: 'the request body is larger than 1048576 bytes',
    });
  });
});
