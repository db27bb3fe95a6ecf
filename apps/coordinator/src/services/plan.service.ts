import type { Logger } from 'pino';
import {
  bundleSha256,
  decodeDatasetBundle,
  deriveRun,
  encodeDatasetBundle,
  type Dataset,
  type ReadLimits,
  type ShardPlan,
} from '@chorus/data';
import type { Repositories } from '@chorus/db';
import {
  ChorusError,
  packPlanChunk,
  parseRunConfig,
  type DatasetPreprocess,
  type MemberModelSpec,
  type PlanChunk,
  type RunConfig,
} from '@chorus/protocol';
import { loadDatasetOf } from '../dataset-paths';
import type { DatasetStore } from '../dataset-store';

/**
 * What the coordinator keeps of a run's `deriveRun` (the derivation `chorus train` and every worker
 * make): the shard plan it serves to workers, and the true labels and sizes of the validation and
 * test splits it checks predictions against.
 */
export interface RunData {
  runId: string;
  config: RunConfig;
  numClasses: number;
  /** The dataset's class names, when it has them (the result's per-class table names them). */
  classNames?: string[];
  /** What loading a csv/npy/images dataset did to its values (an export applies it to new inputs). */
  preprocess?: DatasetPreprocess;
  /** The dataset's input shape (a member's parameter count follows from it). */
  inputShape: number[];
  datasetSha256: string;
  trainCount: number;
  validationTruth: Int32Array;
  testTruth: Int32Array;
  plan: ShardPlan;
  /** Every member's model spec (model settings, overrides, seed), by index. */
  members: MemberModelSpec[];
}

export type RunDerivation = Omit<RunData, 'runId' | 'datasetSha256'>;

/**
 * `deriveRun` from the labels alone (the coordinator keeps nothing but counts and labels, so no
 * feature row is copied: ≈ 40 ms of a POST /api/runs on MNIST); throws DatasetError when the
 * config cannot work.
 */
export function deriveRunData(config: RunConfig, dataset: Dataset): RunDerivation {
  const { train, validation, test, plan, members } = deriveRun(config, dataset, { features: false });
  return {
    config,
    numClasses: dataset.numClasses,
    ...(dataset.classNames !== undefined && { classNames: dataset.classNames }),
    ...(dataset.preprocess !== undefined && { preprocess: dataset.preprocess }),
    inputShape: [...dataset.inputShape],
    trainCount: train.count,
    validationTruth: validation.y,
    testTruth: test.y,
    plan,
    members,
  };
}

export interface PlanService {
  /** Caches what was derived when the run was created (saves decoding its bundle again). */
  remember(data: RunData): void;
  /** The run's derived data: cached, else rebuilt from its stored bundle (after a restart). */
  forRun(runId: string): Promise<RunData>;
  /** Mini-batches offset…offset+count-1 of a member, as one Int32Array's bytes and the batch sizes. */
  chunk(data: RunData, memberIndex: number, offset: number, count: number): PlanChunk;
  /** Training samples in a member's first `steps` mini-batches. */
  samplesThrough(data: RunData, memberIndex: number, steps: number): number;
  forget(runId: string): void;
}

/** Runs whose data stay in memory; older ones are rebuilt on demand. */
const CACHED_RUNS = 8;

export function createPlanService(deps: {
  repos: Repositories;
  store: DatasetStore;
  logger: Logger;
  /** Where a run's `datasetPath` may point (dataset-paths.ts). */
  datasetLimits: ReadLimits;
}): PlanService {
  const cache = new Map<string, Promise<RunData>>();

  const put = (runId: string, value: Promise<RunData>): void => {
    cache.delete(runId);
    cache.set(runId, value);
    while (cache.size > CACHED_RUNS) cache.delete(cache.keys().next().value as string);
    value.catch(() => cache.delete(runId)); // a failure is retried next time
  };

  const load = async (runId: string): Promise<RunData> => {
    const run = await deps.repos.runs.get(runId);
    if (!run) throw new ChorusError('not-found', `run ${runId} does not exist`);
    const config = parseRunConfig(run.config);
    const sha = run.datasetSha256;
    if (sha === null) throw new ChorusError('unavailable', `run ${runId} has no dataset bundle`);
    let bytes = await deps.store.read(sha);
    let dataset: Dataset;
    if (bytes !== undefined) {
      dataset = decodeDatasetBundle(bytes, `dataset bundle ${sha}`);
    } else {
      // The data dir lost the bundle: rebuild it from the dataset's source, if it is the same data.
      deps.logger.warn({ runId, sha }, 'dataset bundle missing: loading the dataset again');
      dataset = await loadDatasetOf(config, deps.datasetLimits);
      bytes = encodeDatasetBundle(dataset);
      if (bundleSha256(bytes) !== sha) {
        throw new ChorusError(
          'unavailable',
          `the ${config.dataset} dataset on this machine differs from the one run ${runId} started with (bundle ${sha} is gone)`,
        );
      }
      await deps.store.put(bytes);
    }
    return { runId, datasetSha256: sha, ...deriveRunData(config, dataset) };
  };

  return {
    remember(data) {
      put(data.runId, Promise.resolve(data));
    },
    forRun(runId) {
      const cached = cache.get(runId);
      if (cached) {
        cache.delete(runId); // most recently used last
        cache.set(runId, cached);
        return cached;
      }
      const loading = load(runId);
      put(runId, loading);
      return loading;
    },
    chunk(data, memberIndex, offset, count) {
      return packPlanChunk(offset, data.plan.member(memberIndex).batches(offset, count));
    },
    samplesThrough(data, memberIndex, steps) {
      const plan = data.plan.member(memberIndex);
      const done = Math.min(Math.max(steps, 0), plan.totalBatches);
      if (done === 0) return 0;
      const perEpoch = plan.batchesInEpoch(0);
      const epochs = Math.floor(done / perEpoch);
      const perEpochSamples = plan.samplesPerEpoch(0);
      // Every batch of an epoch is full but (maybe) its last one.
      const partial = Math.min((done - epochs * perEpoch) * data.config.batchSize, perEpochSamples);
      return epochs * perEpochSamples + partial;
    },
    forget(runId) {
      cache.delete(runId);
    },
  };
}
