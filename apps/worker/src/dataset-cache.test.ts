import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleSha256, encodeDatasetBundle, loadDataset, prepareRunData } from '@chorus/data';
import { ChorusError, parseRunConfig } from '@chorus/protocol';
import { DatasetCache, RunDataProvider, writeAtomically, type DatasetRef } from './dataset-cache';

const TOKEN = 'worker-token';
const logger = pino({ level: 'silent' });

let bundle: Uint8Array;
let sha: string;
/** What the test coordinator serves for `sha` (the bundle, or something else). */
let served: Uint8Array;
let requests: Array<{ url: string; authorization: string | undefined }> = [];
let server: Server;
let baseUrl: string;
let cacheDir: string;
/** A model file's initial weights, as the coordinator serves them (`GET /api/weights/:sha256`). */
const weights = new TextEncoder().encode('initial weights, as bytes');
const weightsSha = bundleSha256(weights);
let servedWeights: Uint8Array;

beforeAll(async () => {
  bundle = encodeDatasetBundle(await loadDataset('synthetic', { seed: 7 }));
  sha = bundleSha256(bundle);
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end('bad token');
    } else if (req.url === `/api/datasets/${sha}`) {
      res.writeHead(200, { 'content-length': served.length }).end(served);
    } else if (req.url === `/api/weights/${weightsSha}`) {
      res.writeHead(200, { 'content-length': servedWeights.length }).end(servedWeights);
    } else {
      res.writeHead(404).end('no such dataset');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'chorus-worker-cache-'));
  served = bundle;
  servedWeights = weights;
  requests = [];
});

afterEach(() => rm(cacheDir, { recursive: true, force: true }));

const ref = (): DatasetRef => ({
  name: 'synthetic',
  sha256: sha,
  url: `/api/datasets/${sha}`,
  bytes: bundle.length,
});
const cache = (options: { localLoad?: boolean; token?: string } = {}) =>
  new DatasetCache({
    cacheDir,
    coordinatorUrl: baseUrl,
    token: options.token ?? TOKEN,
    logger,
    localLoad: options.localLoad ?? false,
  });
const filesIn = async (dir: string) => (await readdir(dir).catch(() => [])).sort();

describe('DatasetCache', () => {
  it('downloads a missing bundle with the worker token, verifies it and caches it', async () => {
    const c = cache();
    const first = await c.obtain(ref());
    expect(first.source).toBe('download');
    expect(bundleSha256(first.bundle)).toBe(sha);
    expect(requests).toEqual([{ url: `/api/datasets/${sha}`, authorization: `Bearer ${TOKEN}` }]);
    expect(Buffer.compare(await readFile(c.pathOf(sha)), bundle)).toBe(0);
    expect(c.pathOf(sha)).toBe(join(cacheDir, 'datasets', `${sha}.bundle`));

    const second = await c.obtain(ref());
    expect(second.source).toBe('cache');
    expect(requests).toHaveLength(1);
  });

  it('replaces a corrupt cached bundle', async () => {
    const c = cache();
    await mkdir(dirname(c.pathOf(sha)), { recursive: true });
    const corrupt = bundle.slice();
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] as number) ^ 0xff;
    await writeFile(c.pathOf(sha), corrupt);

    const got = await c.obtain(ref());
    expect(got.source).toBe('download');
    expect(bundleSha256(await readFile(c.pathOf(sha)))).toBe(sha);
  });

  it('refuses a download whose hash differs and leaves nothing behind', async () => {
    served = bundle.subarray(0, bundle.length - 10);
    const c = cache();
    await expect(c.obtain(ref())).rejects.toThrow(/has sha256 [0-9a-f]{64}, expected/);
    expect(await filesIn(join(cacheDir, 'datasets'))).toEqual([]);
  });

  it('says so when the token is refused', async () => {
    const error = await cache({ token: 'wrong' })
      .obtain(ref())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect((error as ChorusError).code).toBe('unauthorized');
    expect((error as ChorusError).message).toMatch(/401.*worker token/);
  });

  it('shares one download between concurrent requests', async () => {
    const c = cache();
    const [a, b] = await Promise.all([c.obtain(ref()), c.obtain(ref())]);
    expect(a.bundle).toBe(b.bundle);
    expect(requests).toHaveLength(1);
  });

  it('builds the bundle from a local copy when its hash matches, without downloading', async () => {
    const c = cache({ localLoad: true });
    const got = await c.obtain(ref(), { seed: 7 });
    expect(got.source).toBe('local');
    expect(requests).toHaveLength(0);
    expect(bundleSha256(await readFile(c.pathOf(sha)))).toBe(sha);
  });

  it('downloads when the local copy is a different dataset', async () => {
    const got = await cache({ localLoad: true }).obtain(ref(), { seed: 8 });
    expect(got.source).toBe('download');
    expect(requests).toHaveLength(1);
  });
});

describe('DatasetCache.obtainWeights', () => {
  it('downloads weights once with the worker token, keeps them under their hash, replaces a corrupt copy', async () => {
    const c = cache();
    expect(Buffer.compare(await c.obtainWeights(weightsSha), weights)).toBe(0);
    expect(requests).toEqual([{ url: `/api/weights/${weightsSha}`, authorization: `Bearer ${TOKEN}` }]);
    const file = join(cacheDir, 'weights', `${weightsSha}.weights`);
    expect(Buffer.compare(await readFile(file), weights)).toBe(0);
    await c.obtainWeights(weightsSha);
    expect(requests).toHaveLength(1); // from the cache
    await writeFile(file, 'changed on disk');
    expect(Buffer.compare(await c.obtainWeights(weightsSha), weights)).toBe(0);
    expect(requests).toHaveLength(2);
  });

  it('refuses weights whose hash differs, keeping nothing', async () => {
    servedWeights = weights.subarray(1);
    await expect(cache().obtainWeights(weightsSha)).rejects.toThrow(
      new RegExp(
        `the downloaded model weights \\(${weights.length - 1} bytes\\) have sha256 [0-9a-f]{64}, expected ${weightsSha}`,
      ),
    );
    expect(await filesIn(join(cacheDir, 'weights'))).toEqual([]);
  });
});

describe('writeAtomically', () => {
  it('never leaves a partial file or a temporary file, even with concurrent writers', async () => {
    const file = join(cacheDir, 'nested', 'x.bundle');
    const payloads = [bundle, bundle.slice().reverse(), new Uint8Array(bundle.length).fill(7)];
    await Promise.all(payloads.map((p) => writeAtomically(file, p)));
    const written = new Uint8Array(await readFile(file));
    expect(payloads.some((p) => Buffer.compare(Buffer.from(p), Buffer.from(written)) === 0)).toBe(true);
    expect(await filesIn(dirname(file))).toEqual(['x.bundle']);
  });
});

describe('RunDataProvider', () => {
  it('prepares the same rows as prepareRunData, once per run settings', async () => {
    const config = parseRunConfig({
      dataset: 'synthetic',
      seed: 7,
      trainLimit: 300,
      validationFraction: 0.2,
    });
    const provider = new RunDataProvider(cache());
    const assignment = { config, dataset: ref() };
    const data = await provider.get(assignment);
    expect(await provider.get(assignment)).toBe(data);
    const expected = prepareRunData(await loadDataset('synthetic', { seed: 7 }), config);
    expect(data.train.y).toEqual(expected.train.y);
    expect(data.validation.x).toEqual(expected.validation.x);
    expect(data.test.count).toBe(expected.test.count);
    expect(data.dataset).toEqual({
      name: 'synthetic',
      inputShape: [8, 8, 1],
      numClasses: expected.test.y.reduce((m, v) => Math.max(m, v), 0) + 1,
    });
  });
});
