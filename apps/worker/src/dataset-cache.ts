import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import {
  bundleSha256,
  datasetOptionsOf,
  decodeDatasetBundle,
  deriveSplits,
  encodeDatasetBundle,
  loadDataset,
  splitSettingsOf,
  type Dataset,
  type LoadOptions,
  type Split,
} from '@chorus/data';
import {
  ChorusError,
  HTTP_ROUTES,
  isDatasetName,
  routePath,
  type Assignment,
  type RunConfig,
} from '@chorus/protocol';
import { downloadBytes } from './download';
import type { TlsTrust } from './tls-trust';

/**
 * Datasets on the worker's disk, content-addressed: `<cacheDir>/datasets/<sha256>.bundle`. A
 * cached bundle is hashed on every use (a corrupt one is replaced); a missing one is first built
 * from a local copy of the dataset (used only when its hash matches), else downloaded from the
 * coordinator with the worker token. Files are written atomically (temporary file + rename), so
 * a crash or a concurrent worker never leaves a half-written bundle under the final name.
 */

/** A dataset bundle as an assignment names it: name, sha256, URL relative to the coordinator, size. */
export type DatasetRef = Assignment['dataset'];

export interface DatasetCacheOptions {
  cacheDir: string;
  coordinatorUrl: string;
  token: string;
  logger: Logger;
  /** A private CA to trust (tls-trust.ts). */
  tls?: TlsTrust;
  /** Try to build the bundle from a local copy before downloading (default true). */
  localLoad?: boolean;
}

export type BundleSource = 'cache' | 'local' | 'download';

export class DatasetCache {
  /** Bundles being obtained right now, so concurrent slots share one download. */
  private pending = new Map<string, Promise<{ bundle: Uint8Array; source: BundleSource }>>();

  constructor(private readonly options: DatasetCacheOptions) {}

  pathOf(sha256: string): string {
    return join(this.options.cacheDir, 'datasets', `${sha256}.bundle`);
  }

  /**
   * The verified bundle bytes of `ref`. `load` holds the options a local copy is loaded with (the
   * run's, `datasetOptionsOf(config)`, as the coordinator loads it). Concurrent calls for one hash share
   * one job, which is not cancellable: an abandoned download still completes into the cache.
   */
  obtain(ref: DatasetRef, load: LoadOptions = {}): Promise<{ bundle: Uint8Array; source: BundleSource }> {
    return this.shared(ref.sha256, ref.sha256, `dataset hash "${ref.sha256}"`, () =>
      this.obtainUncached(ref, load),
    );
  }

  /**
   * A model file's initial weights (`ModelFile.weights`), content-addressed as bundles are:
   * `<cacheDir>/weights/<sha256>.weights`, hashed on every use, else downloaded from the
   * coordinator (`GET /api/weights/:sha256`) and checked against the hash before they are kept.
   */
  async obtainWeights(sha256: string): Promise<Uint8Array> {
    const file = join(this.options.cacheDir, 'weights', `${sha256}.weights`);
    const job = this.shared(`weights:${sha256}`, sha256, `weights hash "${sha256}"`, async () => {
      const cached = await this.readVerified(
        file,
        sha256,
        { weights: sha256 },
        'cached model weights do not match their hash; replacing them',
      );
      if (cached !== null) return { bundle: cached, source: 'cache' as const };
      const url = new URL(
        routePath(HTTP_ROUTES.getWeights.path, { sha256 }).slice(1),
        `${this.options.coordinatorUrl}/`,
      ).toString();
      this.options.logger.info({ weights: sha256, url }, 'downloading model weights');
      const bytes = await this.downloadVerified(url, sha256, file, 'the downloaded model weights', 'have');
      this.options.logger.info(
        { weights: sha256, bytes: bytes.length, file },
        'model weights downloaded and cached',
      );
      return { bundle: bytes, source: 'download' as const };
    });
    return (await job).bundle;
  }

  /** One job per key at a time: concurrent slots asking for the same file share its download. */
  private shared(
    key: string,
    sha256: string,
    what: string,
    make: () => Promise<{ bundle: Uint8Array; source: BundleSource }>,
  ): Promise<{ bundle: Uint8Array; source: BundleSource }> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      return Promise.reject(new ChorusError('invalid-input', `${what} is not a sha256`));
    }
    let job = this.pending.get(key);
    if (!job) {
      job = make().finally(() => this.pending.delete(key));
      this.pending.set(key, job);
    }
    return job;
  }

  /** The cached file when its bytes still hash to `sha256`; a changed copy is removed (null). */
  private async readVerified(
    file: string,
    sha256: string,
    fields: Record<string, string>,
    warning: string,
  ): Promise<Uint8Array | null> {
    const cached = await readFile(file).catch(() => null);
    if (cached === null) return null;
    if (bundleSha256(cached) === sha256) return cached;
    this.options.logger.warn({ file, ...fields }, warning);
    await rm(file, { force: true });
    return null;
  }

  /** Downloads `url` with the worker token, refuses bytes whose sha256 differs, then keeps them in `file`. */
  private async downloadVerified(
    url: string,
    sha256: string,
    file: string,
    what: string,
    verb: 'has' | 'have',
    onProgress?: (received: number, total: number | null) => void,
  ): Promise<Uint8Array> {
    const bytes = await downloadBytes(url, {
      token: this.options.token,
      ...(this.options.tls && { init: this.options.tls.fetchInit }),
      ...(onProgress && { onProgress }),
    });
    const got = bundleSha256(bytes);
    if (got !== sha256) {
      throw new ChorusError(
        'internal',
        `${what} (${bytes.length} bytes) ${verb} sha256 ${got}, expected ${sha256}`,
      );
    }
    await writeAtomically(file, bytes);
    return bytes;
  }

  private async obtainUncached(
    ref: DatasetRef,
    load: LoadOptions,
  ): Promise<{ bundle: Uint8Array; source: BundleSource }> {
    const { logger } = this.options;
    const file = this.pathOf(ref.sha256);
    const cached = await this.readVerified(
      file,
      ref.sha256,
      { dataset: ref.name },
      'cached dataset bundle does not match its hash; replacing it',
    );
    if (cached !== null) return { bundle: cached, source: 'cache' };

    if (this.options.localLoad !== false) {
      const local = await this.buildLocally(ref, load);
      if (local !== null) {
        await writeAtomically(file, local);
        return { bundle: local, source: 'local' };
      }
    }

    const url = new URL(ref.url, `${this.options.coordinatorUrl}/`).toString();
    logger.info({ dataset: ref.name, bytes: ref.bytes, url }, 'downloading dataset');
    let lastLogged = 0;
    const bundle = await this.downloadVerified(
      url,
      ref.sha256,
      file,
      `the downloaded ${ref.name} bundle`,
      'has',
      (received, total) => {
        const now = Date.now();
        if (now - lastLogged < 1_000) return;
        lastLogged = now;
        const of = total ?? ref.bytes;
        logger.info(
          {
            dataset: ref.name,
            received,
            total: of,
            percent: of > 0 ? Math.round((100 * received) / of) : null,
          },
          'downloading dataset',
        );
      },
    );
    logger.info({ dataset: ref.name, bytes: bundle.length, file }, 'dataset downloaded and cached');
    return { bundle, source: 'download' };
  }

  /** The bundle of a local copy of the dataset, when there is one and its hash matches. */
  private async buildLocally(ref: DatasetRef, load: LoadOptions): Promise<Uint8Array | null> {
    if (!isDatasetName(ref.name)) return null;
    try {
      const dataset = await loadDataset(ref.name, load);
      const bundle = encodeDatasetBundle(dataset);
      if (bundleSha256(bundle) === ref.sha256) return bundle;
      this.options.logger.debug(
        { dataset: ref.name },
        'local copy of the dataset differs from the run’s; downloading',
      );
    } catch (error) {
      this.options.logger.debug(
        { dataset: ref.name, err: String(error) },
        'no usable local copy of the dataset',
      );
    }
    return null;
  }
}

/** Writes `bytes` to `file` via a temporary file in the same directory and a rename. */
export async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** The splits a member trains and is evaluated on, and the shape of the data. */
export interface RunData {
  dataset: Pick<Dataset, 'name' | 'inputShape' | 'numClasses'>;
  train: Split;
  validation: Split;
  test: Split;
}

/**
 * The splits of the run's derivation (`deriveSplits`, the part of `deriveRun` a worker needs: its
 * mini-batches come from the coordinator, which serves the same derivation's plan), by (dataset
 * hash, `splitSettingsOf(config)`, the only config fields they are derived from): members of one
 * run that follow each other on this worker (or run side by side in its slots), and runs on the
 * same rows, share one decoded copy. Holds the latest only.
 */
export class RunDataProvider {
  private latest: { key: string; data: Promise<RunData> } | null = null;

  constructor(private readonly cache: DatasetCache) {}

  /** A model file's initial weights, from the cache or the coordinator (DatasetCache.obtainWeights). */
  weights(sha256: string): Promise<Uint8Array> {
    return this.cache.obtainWeights(sha256);
  }

  get(assignment: Pick<Assignment, 'dataset' | 'config'>): Promise<RunData> {
    const { dataset: ref, config } = assignment;
    const key = JSON.stringify([ref.sha256, splitSettingsOf(config)]);
    if (this.latest?.key !== key) {
      const data = this.prepare(ref, config);
      data.catch(() => {
        if (this.latest?.data === data) this.latest = null;
      });
      this.latest = { key, data };
    }
    return this.latest.data;
  }

  private async prepare(ref: DatasetRef, config: RunConfig): Promise<RunData> {
    const { bundle } = await this.cache.obtain(ref, datasetOptionsOf(config));
    const dataset = decodeDatasetBundle(bundle, `dataset ${ref.name} (${ref.sha256.slice(0, 12)}…)`);
    const { train, validation, test } = deriveSplits(config, dataset);
    return {
      dataset: { name: dataset.name, inputShape: dataset.inputShape, numClasses: dataset.numClasses },
      train,
      validation,
      test,
    };
  }
}
