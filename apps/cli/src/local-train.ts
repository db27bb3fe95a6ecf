import { randomBytes } from 'node:crypto';
import {
  deriveRun,
  loadRunDataset,
  manifestDatasetFor,
  type Dataset,
  type DerivedRun,
  type LoadProgress,
} from '@chorus/data';
import { evaluateEnsemble, perClassResult, runResultOf } from '@chorus/ensemble';
import {
  buildModel,
  disposeModel,
  predictProbabilities,
  selectBackend,
  startFromFileWeights,
  trainOnBatches,
  writeEnsembleExport,
  type BackendName,
} from '@chorus/models';
import { ChorusError, type EnsembleManifest, type RunConfig, type RunResult } from '@chorus/protocol';

export interface MemberProgress {
  member: number;
  epoch: number;
  /** Mini-batches done over the whole run, and their total. */
  step: number;
  totalSteps: number;
  /** Unknown while following a run over HTTP. */
  loss?: number;
  accuracy?: number;
  samplesPerSecond: number;
}

export interface LocalTrainOptions {
  backend: 'auto' | BackendName;
  /** An explicit 'webgpu' may take a software adapter (CHORUS_WEBGPU_ALLOW_SOFTWARE). */
  allowSoftwareGpu?: boolean;
  /** `counts`: the run's splits (after `trainLimit` and the validation hold-out), not the dataset's. */
  onStart?: (info: {
    backend: string;
    device: string;
    /** Packages, and why faster backends were passed over (selectBackend). */
    detail: string;
    /** The faster backends passed over, each with why (selectBackend). */
    skipped: ReadonlyArray<{ backend: string; reason: string }>;
    dataset: Dataset;
    counts: { train: number; validation: number; test: number };
    totals: number[];
  }) => void;
  onProgress?: (p: MemberProgress) => void;
  onEpoch?: (epoch: number, epochs: number) => void;
  /** While a large csv is read. */
  onLoadProgress?: (progress: LoadProgress) => void;
  /** Checks the loaded dataset before any model is built (throws to refuse it). */
  checkDataset?: (dataset: Dataset) => void;
  signal?: AbortSignal;
  /** Export the trained ensemble into this directory (README "Take the ensemble away"). */
  save?: string;
  /** The initial weights `cfg.modelFile.weights` names (a `--model-file` model.json's). */
  initialWeights?: Uint8Array | null;
}

export interface LocalTrainResult {
  result: RunResult;
  backend: string;
  device: string;
  datasetSha256: string;
  seconds: number;
  /** The manifest written when `save` was given. */
  saved?: EnsembleManifest;
}

/** The dataset of a run and its `deriveRun`: what `chorus train` trains and evaluates on. */
export async function deriveLocalRun(
  cfg: RunConfig,
  options: Pick<LocalTrainOptions, 'onLoadProgress' | 'checkDataset'> = {},
): Promise<{ dataset: Dataset; run: DerivedRun }> {
  const dataset = await loadRunDataset(
    cfg,
    options.onLoadProgress ? { onProgress: options.onLoadProgress } : {},
  );
  options.checkDataset?.(dataset);
  return { dataset, run: deriveRun(cfg, dataset) };
}

/**
 * Trains a whole ensemble in this process: the same data split, shard plan and member seeds
 * that the coordinator would hand out (`deriveRun`), members trained epoch by epoch side by side,
 * then every voting strategy and the diversity measures on the test split.
 */
export async function trainEnsembleLocally(
  cfg: RunConfig,
  options: LocalTrainOptions,
): Promise<LocalTrainResult> {
  const started = performance.now();
  // The dataset first: a bad file is refused before any backend starts.
  const { dataset, run } = await deriveLocalRun(cfg, options);
  const backend = await selectBackend(options.backend, {
    allowSoftwareGpu: options.allowSoftwareGpu === true,
  });
  const { train, validation, plan } = run;

  const file = cfg.modelFile;
  const initialWeights = options.initialWeights ?? null;
  if (file?.weights !== undefined && initialWeights === null) {
    throw new ChorusError(
      'invalid-input',
      `model file ${file.fileName} starts from weights (sha256 ${file.weights.sha256.slice(0, 12)}…) that are not here: ` +
        'give the model.json with --model-file, its weight shards beside it',
    );
  }
  const members = run.members.map((spec, m) => {
    const model = buildModel({ ...spec, inputShape: dataset.inputShape, numClasses: dataset.numClasses });
    return { index: m, model, plan: plan.member(m), samples: 0, seconds: 0 };
  });
  if (file?.weights !== undefined && initialWeights !== null) {
    // A model.json with weights: every member starts from them; its seed still orders dropout.
    try {
      for (const member of members) await startFromFileWeights(member.model, file, initialWeights);
    } catch (error) {
      for (const member of members) disposeModel(member.model);
      throw error;
    }
  }
  options.onStart?.({
    backend: backend.backend,
    device: backend.device,
    detail: backend.detail,
    skipped: backend.skipped,
    dataset,
    counts: { train: train.count, validation: validation.count, test: dataset.test.count },
    totals: members.map((m) => m.plan.totalBatches),
  });

  const data = { x: train.x, y: train.y, inputShape: dataset.inputShape, numClasses: dataset.numClasses };
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      for (const member of members) {
        const first = member.plan.firstBatchOfEpoch(epoch);
        const count = member.plan.batchesInEpoch(epoch);
        const stats = await trainOnBatches({
          model: member.model,
          data,
          batches: batchesOf(member.plan, first, count),
          metricsEvery: 20,
          ...(options.signal ? { signal: options.signal } : {}),
          onBatch: (m) => {
            options.onProgress?.({
              member: member.index,
              epoch,
              step: m.step, // counts every step this model has trained, over all epochs
              totalSteps: member.plan.totalBatches,
              loss: m.loss,
              accuracy: m.accuracy,
              samplesPerSecond: m.samplesPerSecond,
            });
          },
        });
        member.samples += stats.samples;
        member.seconds += stats.seconds;
      }
      options.onEpoch?.(epoch + 1, cfg.epochs);
    }

    const predictions = [];
    for (const member of members) {
      predictions.push({
        validation: await predictProbabilities(member.model, validation.x, dataset.inputShape),
        test: await predictProbabilities(member.model, dataset.test.x, dataset.inputShape),
      });
    }
    const evaluation = evaluateEnsemble({
      numClasses: dataset.numClasses,
      validation: { members: predictions.map((p) => p.validation), truth: validation.y },
      test: { members: predictions.map((p) => p.test), truth: dataset.test.y },
      seed: cfg.seed,
    });
    const result = {
      ...runResultOf(
        evaluation,
        members.map((m) => (m.seconds > 0 ? m.samples / m.seconds : 0)),
      ),
      classes: perClassResult(evaluation, dataset.test.y, dataset.numClasses, dataset.classNames),
    };
    const saved =
      options.save === undefined
        ? undefined
        : await writeEnsembleExport(options.save, {
            runId: localRunId(),
            config: cfg,
            dataset: manifestDatasetFor(dataset),
            result,
            combiners: evaluation.combiners,
            models: members.map((m) => m.model),
          });
    return {
      result,
      ...(saved ? { saved } : {}),
      backend: backend.backend,
      device: backend.device,
      datasetSha256: dataset.sha256,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const member of members) disposeModel(member.model);
  }
}

/** Yields a member's mini-batches lazily, so a long epoch never holds every index list at once. */
function* batchesOf(
  plan: { batch(k: number): Int32Array },
  first: number,
  count: number,
): Generator<Int32Array> {
  for (let k = first; k < first + count; k++) yield plan.batch(k);
}

/** A local run's id in its export: `local-` + the UTC time + 4 random bytes (no coordinator names it). */
function localRunId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `local-${time}-${randomBytes(4).toString('hex')}`;
}
