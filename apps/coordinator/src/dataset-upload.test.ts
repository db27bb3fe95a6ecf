import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleSha256, encodeDatasetBundle, type Dataset } from '@chorus/data';
import { encodeWeights } from '@chorus/models';
import { HttpError, type ModelFile } from '@chorus/protocol';
import {
  ADMIN_TOKEN,
  claimAssignment,
  connectWorker,
  expectEventually,
  handshake,
  httpClient,
  launchRun,
  WORKER_TOKEN,
  withCoordinator,
} from './testing/harness';

const MAX = 256 * 1024;
const fixture = withCoordinator({ uploadMaxBytes: MAX });

/** A csv-kind dataset of `rows` training rows × 3 features, two classes, as `chorus run` encodes it. */
function csvDataset(rows: number, seed = 1): Dataset {
  const make = (n: number, offset: number) => ({
    x: Float32Array.from({ length: n * 3 }, (_, i) => Math.sin(i * seed + offset)),
    y: Int32Array.from({ length: n }, (_, i) => i % 2),
    count: n,
  });
  return {
    name: 'csv',
    inputShape: [3],
    numClasses: 2,
    train: make(rows, 0),
    test: make(20, 1),
    sha256: 'c'.repeat(64),
    source: 'test.csv',
    classNames: ['no', 'yes'],
    preprocess: { normalize: 'standard', mean: [0, 0, 0], std: [1, 1, 1] },
  };
}

const datasetsDir = () => join(fixture.dataDir, 'datasets');
const filesIn = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The refusal of a call (an HttpError), or a failure of the test when it succeeded. */
async function refusal(work: Promise<unknown>): Promise<HttpError> {
  const error = await work.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  if (error instanceof HttpError) return error;
  throw error;
}

describe('PUT /api/datasets/:sha256', () => {
  it('stores a bundle once, says so, and a run on it hands workers that bundle', async () => {
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const bundle = encodeDatasetBundle(csvDataset(300));
    const sha256 = bundleSha256(bundle);
    expect(await api.getDatasetStatus({ params: { sha256 } })).toEqual({
      sha256,
      stored: false,
      bytes: null,
    });
    expect(await api.putDataset({ params: { sha256 }, upload: { headers: {}, bytes: bundle } })).toEqual({
      sha256,
      stored: true,
      bytes: bundle.length,
    });
    expect(await api.getDatasetStatus({ params: { sha256 } })).toEqual({
      sha256,
      stored: true,
      bytes: bundle.length,
    });
    // A second upload of the same bytes is answered without storing anything again.
    expect(
      (await api.putDataset({ params: { sha256 }, upload: { headers: {}, bytes: bundle } })).stored,
    ).toBe(true);
    expect(filesIn(datasetsDir()).filter((f) => f.startsWith(sha256))).toEqual([`${sha256}.bundle`]);

    const runId = await launchRun(fixture.coordinator, {
      dataset: 'csv',
      datasetBundle: sha256,
      members: 2,
      epochs: 1,
      batchSize: 32,
    });
    const worker = await connectWorker(fixture.coordinator, handshake());
    try {
      const a = await claimAssignment(worker);
      expect(a.runId).toBe(runId);
      expect(a.dataset).toMatchObject({ name: 'csv', sha256, bytes: bundle.length });
      const download = await httpClient(fixture.coordinator, WORKER_TOKEN).getDataset({ params: { sha256 } });
      expect(bundleSha256(download.bytes)).toBe(sha256);
    } finally {
      worker.disconnect();
      await api.cancelRun({ params: { id: runId } });
    }
  });

  it('refuses a run on a bundle it does not have, and a convnet on flat features', async () => {
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const absent = 'e'.repeat(64);
    const missing = await refusal(api.createRun({ body: { dataset: 'csv', datasetBundle: absent } }));
    expect(missing.status).toBe(400);
    expect(missing.reason).toBe(
      `datasetBundle: no dataset bundle ${absent} on this coordinator: upload it first (PUT /api/datasets/${absent}, as \`chorus run\` does)`,
    );
    const bundle = encodeDatasetBundle(csvDataset(100, 2));
    const sha256 = bundleSha256(bundle);
    await api.putDataset({ params: { sha256 }, upload: { headers: {}, bytes: bundle } });
    const convnet = await refusal(
      api.createRun({ body: { dataset: 'csv', datasetBundle: sha256, model: 'small-cnn' } }),
    );
    expect(convnet.reason).toMatch(
      /^small-cnn is a convolutional network and needs images \[height, width, channels\], but dataset bundle \w{12}… holds samples of shape \[3\]/,
    );
    const kind = await refusal(api.createRun({ body: { dataset: 'npy', datasetBundle: sha256 } }));
    expect(kind.reason).toBe(
      `datasetBundle: bundle ${sha256} holds a csv dataset, but the run says dataset npy`,
    );
  });

  it('refuses without the admin token, a wrong hash, and bytes that are no bundle: nothing stored', async () => {
    const bundle = encodeDatasetBundle(csvDataset(50, 3));
    const sha256 = bundleSha256(bundle);
    // The worker token is one of ours, of the wrong kind: 403 (README "Tokens").
    const noToken = await refusal(
      httpClient(fixture.coordinator, WORKER_TOKEN).putDataset({
        params: { sha256 },
        upload: { headers: {}, bytes: bundle },
      }),
    );
    expect(noToken.status).toBe(403);
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const wrong = 'd'.repeat(64);
    const mismatch = await refusal(
      api.putDataset({ params: { sha256: wrong }, upload: { headers: {}, bytes: bundle } }),
    );
    expect(mismatch.status).toBe(400);
    expect(mismatch.reason).toBe(
      `the uploaded ${bundle.length} bytes have sha256 ${sha256}, not ${wrong} (cut off or changed in transit?)`,
    );
    const junk = new TextEncoder().encode('not a bundle at all, but hashed right');
    const junkSha = bundleSha256(junk);
    const notBundle = await refusal(
      api.putDataset({ params: { sha256: junkSha }, upload: { headers: {}, bytes: junk } }),
    );
    expect(notBundle.reason).toBe('the upload: not a Chorus dataset bundle');
    // A bundle with its last bytes missing (hashed as sent): its header says more.
    const cut = bundle.subarray(0, bundle.length - 10);
    const cutSha = bundleSha256(cut);
    const short = await refusal(
      api.putDataset({ params: { sha256: cutSha }, upload: { headers: {}, bytes: cut } }),
    );
    expect(short.reason).toBe(
      `the upload is not a whole dataset bundle: its header says ${bundle.length} bytes, it has ${cut.length}`,
    );
    for (const sha of [sha256, wrong, junkSha, cutSha]) {
      expect((await api.getDatasetStatus({ params: { sha256: sha } })).stored).toBe(false);
    }
    expect(filesIn(datasetsDir()).filter((f) => !f.endsWith('.bundle'))).toEqual([]);
  });

  it('answers 413 beyond CHORUS_UPLOAD_MAX_BYTES, declared or streamed', async () => {
    const bundle = encodeDatasetBundle(csvDataset(30_000, 4)); // ≈ 480 kB of float32 > 256 KiB
    expect(bundle.length).toBeGreaterThan(MAX);
    const sha256 = bundleSha256(bundle);
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const declared = await refusal(
      api.putDataset({ params: { sha256 }, upload: { headers: {}, bytes: bundle } }),
    );
    expect(declared.status).toBe(413);
    expect(declared.reason).toBe(
      `the upload is ${bundle.length} bytes, more than the ${MAX} this coordinator stores (CHORUS_UPLOAD_MAX_BYTES)`,
    );
    // Without a Content-Length (a chunked stream) the count stops it.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bundle.length; at += 16_384) controller.enqueue(bundle.slice(at, at + 16_384));
        controller.close();
      },
    });
    const streamed = await fetch(`${fixture.coordinator.url}/api/datasets/${sha256}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { message: string }).message).toBe(
      `the upload is larger than ${MAX} bytes, the most this coordinator stores (CHORUS_UPLOAD_MAX_BYTES)`,
    );
    expect((await api.getDatasetStatus({ params: { sha256 } })).stored).toBe(false);
    await expectEventually(() =>
      expect(filesIn(datasetsDir()).filter((f) => !f.endsWith('.bundle'))).toEqual([]),
    );
  });

  it('keeps nothing of an upload whose client is killed halfway', async () => {
    const bundle = encodeDatasetBundle(csvDataset(8_000, 5)); // ≈ 130 kB, under the cap
    const sha256 = bundleSha256(bundle);
    // A separate process sends the headers and half the body, then waits to be killed.
    const script = `
      const http = require('node:http');
      const body = Buffer.alloc(${bundle.length}, 7);
      const req = http.request(process.argv[1], { method: 'PUT', headers: {
        authorization: 'Bearer ${ADMIN_TOKEN}', 'content-type': 'application/octet-stream',
        'content-length': ${bundle.length} } });
      req.on('error', () => {});
      req.write(body.subarray(0, ${Math.floor(bundle.length / 2)}), () => process.stdout.write('half\\n'));
      setInterval(() => {}, 1000);`;
    const child = spawn(
      process.execPath,
      ['-e', script, `${fixture.coordinator.url}/api/datasets/${sha256}`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      // The coordinator is writing its temporary file…
      await expectEventually(() =>
        expect(filesIn(datasetsDir()).some((f) => f.startsWith(sha256) && f.endsWith('.upload'))).toBe(true),
      );
    } finally {
      child.kill('SIGKILL');
    }
    // …and removes it once the connection is gone: nothing stored under any name.
    await expectEventually(() =>
      expect(filesIn(datasetsDir()).filter((f) => f.startsWith(sha256))).toEqual([]),
    );
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    expect((await api.getDatasetStatus({ params: { sha256 } })).stored).toBe(false);
  });
});

describe("PUT /api/weights/:sha256 (a model file's initial weights)", () => {
  /** A model file of Dense(3 → 2) over the 3 features, and a weights container for it. */
  const file: ModelFile = {
    fileName: 'model.json',
    name: 'tiny',
    inputShape: [3],
    layers: [{ kind: 'dense', name: 'out', units: 2, activation: 'softmax', init: 'glorotUniform' }],
  };
  const container = (units: number) =>
    encodeWeights([
      {
        name: 'out/kernel',
        shape: [3, units],
        dtype: 'float32',
        values: new Float32Array(3 * units).fill(0.5),
      },
      { name: 'out/bias', shape: [units], dtype: 'float32', values: new Float32Array(units) },
    ]);
  const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

  it('stores weights once, serves them to workers, and a run must name stored weights that fit', async () => {
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const bundle = encodeDatasetBundle(csvDataset(100, 3));
    const datasetBundle = bundleSha256(bundle);
    await api.putDataset({ params: { sha256: datasetBundle }, upload: { headers: {}, bytes: bundle } });
    const weights = container(2);
    const sha256 = sha(weights);
    const named = { ...file, weights: { sha256, bytes: weights.length, tensors: 2 } };

    const absent = await refusal(
      api.createRun({ body: { dataset: 'csv', datasetBundle, modelFile: named } }),
    );
    expect(absent.status).toBe(400);
    expect(absent.reason).toBe(
      `modelFile.weights: no weights ${sha256} on this coordinator: upload them first (PUT /api/weights/${sha256}, as \`chorus run\` does)`,
    );
    expect(await api.getWeightsStatus({ params: { sha256 } })).toEqual({
      sha256,
      stored: false,
      bytes: null,
    });
    expect(await api.putWeights({ params: { sha256 }, upload: { headers: {}, bytes: weights } })).toEqual({
      sha256,
      stored: true,
      bytes: weights.length,
    });
    const served = await httpClient(fixture.coordinator, WORKER_TOKEN).getWeights({ params: { sha256 } });
    expect(sha(served.bytes)).toBe(sha256);
    const runId = await launchRun(fixture.coordinator, {
      dataset: 'csv',
      datasetBundle,
      modelFile: named,
      members: 1,
    });
    await api.cancelRun({ params: { id: runId } });

    // Stored weights of another shape (3 units where the model has 2) are refused at launch.
    const wide = container(3);
    await api.putWeights({ params: { sha256: sha(wide) }, upload: { headers: {}, bytes: wide } });
    const misfit = await refusal(
      api.createRun({
        body: {
          dataset: 'csv',
          datasetBundle,
          modelFile: { ...file, weights: { sha256: sha(wide), bytes: wide.length, tensors: 2 } },
        },
      }),
    );
    expect(misfit.reason).toBe(
      `modelFile.weights: the initial weights ${sha(wide).slice(0, 12)}… of model.json: weight "out/kernel" has shape [3, 3]; layer 0 'out' (Dense) needs [3, 2]`,
    );
  });

  it('refuses bytes that are no weights container, and a wrong hash: nothing stored', async () => {
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const junk = new TextEncoder().encode('not weights at all');
    const notWeights = await refusal(
      api.putWeights({ params: { sha256: sha(junk) }, upload: { headers: {}, bytes: junk } }),
    );
    expect(notWeights.status).toBe(400);
    expect(notWeights.reason).toMatch(
      /^the upload is not a Chorus weights container: these bytes are not Chorus weights/,
    );
    const weights = container(2);
    const wrong = await refusal(
      api.putWeights({ params: { sha256: 'a'.repeat(64) }, upload: { headers: {}, bytes: weights } }),
    );
    expect(wrong.status).toBe(400);
    expect(filesIn(join(fixture.dataDir, 'weights')).filter((f) => !f.endsWith('.weights'))).toEqual([]);
    expect((await api.getWeightsStatus({ params: { sha256: sha(junk) } })).stored).toBe(false);
  });
});

describe('a csv datasetPath the coordinator reads itself (the New run form)', () => {
  it('loads a file under its dataset roots, and names the line of a bad row without quoting it', async () => {
    const api = httpClient(fixture.coordinator, ADMIN_TOKEN);
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 7},${(i * 3) % 11},${['red', 'blue'][i % 2]}`);
    const good = join(fixture.dataDir, 'colours.csv');
    writeFileSync(good, `a,b,colour\n${rows.join('\n')}\n`);
    const { id } = await api.createRun({
      body: { dataset: 'csv', datasetPath: good, members: 2, epochs: 1, batchSize: 8 },
    });
    const run = await api.getRun({ params: { id } });
    expect(run.config).toMatchObject({ dataset: 'csv', datasetPath: good });
    await api.cancelRun({ params: { id } });

    const bad = join(fixture.dataDir, 'secret.csv');
    writeFileSync(bad, 'a,b,colour\n1,2,red\n3,TOP-SECRET,blue\n');
    const refused = await refusal(api.createRun({ body: { dataset: 'csv', datasetPath: bad } }));
    expect(refused.reason).toBe(
      `datasetPath: ${bad} line 3 is not a csv file this coordinator reads (corrupt); \`chorus train --dataset csv --dataset-path ${bad}\` on this machine says what is wrong`,
    );
    expect(refused.reason).not.toContain('TOP-SECRET');
  });
});
