import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { datasetKeyOf, encodeDatasetBundle, type Dataset, type ReadLimits } from '@chorus/data';
import { fileWeightsMismatch } from '@chorus/models';
import { TERMINAL_RUN_STATUSES, type Repositories, type Run, type RunStatus } from '@chorus/db';
import {
  ChorusError,
  knownDatasetShape,
  memberParamsRefusal,
  modelShapeRefusal,
  modelLabel,
  overridesFor,
  parseRunConfig,
  type RunConfig,
  type RunResult,
} from '@chorus/protocol';
import { loadDatasetOf, uploadedDataset } from '../dataset-paths';
import type { CheckpointStore } from '../checkpoint-store';
import type { DatasetStore, WeightsStore } from '../dataset-store';
import type { Notifiers } from '../notifications';
import { deriveRunData, type PlanService } from './plan.service';

export interface RunService {
  /**
   * Validates a run config (a member over the parameter limit is refused before anything is read
   * or stored), stores its dataset bundle, creates the Run and its Members.
   */
  create(input: unknown): Promise<{ id: string }>;
  /** Cancels a run: its members are revoked from their workers. */
  cancel(id: string): Promise<Run>;
  /**
   * Deletes an ended run: its rows (members, checkpoints, metrics, predictions, evaluations), its
   * members' checkpoint files and its export under the data dir. A run still queued or running is
   * refused (`conflict`: cancel it first), an unknown one is `not-found`.
   */
  remove(id: string): Promise<{ id: string; deleted: true; checkpointDirs: number }>;
  /**
   * Ends a run (completed, failed, cancelled), revokes members still held and notifies. Returns
   * null when the run had already ended with another status.
   */
  finish(
    id: string,
    status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>,
    details?: { error?: string; result?: RunResult },
  ): Promise<Run | null>;
}

export function createRunService(deps: {
  repos: Repositories;
  store: DatasetStore;
  /** Model files' initial weights (`modelFile.weights`), uploaded before a run names them. */
  weights: WeightsStore;
  plans: PlanService;
  notify: Notifiers;
  logger: Logger;
  /** Where a run's `datasetPath` may point (dataset-paths.ts). */
  datasetLimits: ReadLimits;
  /** The most parameters one member may have (libs/protocol model-size.ts counts them). */
  maxMemberParams: number;
  /** Where the members' checkpoint files are (checkpoint-store.ts). */
  checkpoints: Pick<CheckpointStore, 'removeMembers'>;
  /** The coordinator's data dir (a run's export lives under `exports/<run id>`). */
  dataDir: string;
}): RunService {
  const { repos, notify, logger } = deps;

  // The dataset and bundle of the last launch: loading MNIST and encoding + hashing its 55 MB
  // bundle takes seconds, and consecutive runs usually share their dataset. One entry bounds memory.
  let recent: { key: string; dataset: Dataset; sha256: string } | undefined;
  const datasetOf = async (config: RunConfig) => {
    const key = datasetKeyOf(config);
    if (recent?.key === key && (await deps.store.size(recent.sha256)) !== undefined) return recent;
    if (config.datasetBundle !== undefined) {
      const dataset = await uploadedDataset(deps.store, config, config.datasetBundle);
      recent = { key, dataset, sha256: config.datasetBundle };
      return recent;
    }
    const dataset = await loadDatasetOf(config, deps.datasetLimits);
    const stored = await deps.store.put(encodeDatasetBundle(dataset));
    recent = { key, dataset, sha256: stored.sha256 };
    return recent;
  };

  const checkShape = (
    config: RunConfig,
    shape: { inputShape: readonly number[]; numClasses: number },
  ): void => {
    const what =
      config.datasetBundle !== undefined
        ? `dataset bundle ${config.datasetBundle.slice(0, 12)}…`
        : (config.datasetPath ?? `the ${config.dataset} dataset`);
    const misfit = modelShapeRefusal(config, shape, what);
    if (misfit !== null) throw new ChorusError('invalid-input', misfit);
    const refusal = memberParamsRefusal(config, shape, deps.maxMemberParams);
    if (refusal !== null) {
      throw new ChorusError('invalid-input', `${refusal} (the coordinator's CHORUS_MAX_MEMBER_PARAMS)`);
    }
  };

  /** A model file's initial weights must be stored and be exactly the model's weights on this data. */
  const checkWeights = async (config: RunConfig, inputShape: readonly number[]): Promise<void> => {
    const file = config.modelFile;
    if (file?.weights === undefined) return;
    const { sha256 } = file.weights;
    const bytes = await deps.weights.read(sha256);
    if (bytes === undefined) {
      throw new ChorusError(
        'invalid-input',
        `modelFile.weights: no weights ${sha256} on this coordinator: upload them first (PUT /api/weights/${sha256}, as \`chorus run\` does)`,
      );
    }
    const misfit = fileWeightsMismatch(file, bytes, inputShape);
    if (misfit !== null) throw new ChorusError('invalid-input', `modelFile.weights: ${misfit}`);
  };

  const finish: RunService['finish'] = async (id, status, details = {}) => {
    const run = await repos.runs.setStatus(id, status, details);
    if (!run) return null;
    // Members still out on workers stop now; they go back to `pending` in a run that is over.
    const reason = status === 'cancelled' ? 'run cancelled' : `run ${status}`;
    for (const member of await repos.members.listByRun(id)) {
      if ((member.status === 'leased' || member.status === 'running') && member.workerId !== null) {
        notify.workers.revoke(member.workerId, { memberId: member.id, attempt: member.attempt }, reason);
        await repos.members.release({ memberId: member.id, workerId: member.workerId });
      }
    }
    if (status !== 'completed') deps.plans.forget(id);
    logger.info(
      { runId: id, status, ...(details.error !== undefined && { error: details.error }) },
      `run ${status}`,
    );
    notify.dashboards.runsChanged();
    notify.dashboards.runChanged({ runId: id, kind: 'status', data: { status } });
    return run;
  };

  return {
    async create(input) {
      const config: RunConfig = parseRunConfig(input);
      // A built-in dataset's shape is known before loading it (a datasetPath holds its own format):
      // an oversized member is refused before anything is read. A csv/npy/images dataset's after.
      const known = knownDatasetShape(config.dataset);
      if (known !== undefined) checkShape(config, known);
      const { dataset, sha256 } = await datasetOf(config);
      if (known === undefined) checkShape(config, dataset);
      await checkWeights(config, dataset.inputShape);
      // Derive the split and the shard plan now: a config that cannot work fails here, not on a worker.
      const derived = deriveRunData(config, dataset);
      const run = await repos.runs.create({
        name: config.name ?? `${config.members} × ${modelLabel(config)} on ${config.dataset}`,
        config,
        seed: config.seed,
        datasetName: config.dataset,
        datasetSha256: sha256,
        numClasses: dataset.numClasses,
        members: Array.from({ length: config.members }, (_, m) => ({
          overrides: overridesFor(config, m),
          totalBatches: derived.plan.member(m).totalBatches,
        })),
      });
      deps.plans.remember({ runId: run.id, datasetSha256: sha256, ...derived });
      logger.info(
        { runId: run.id, dataset: config.dataset, members: config.members, bundle: sha256 },
        'run created',
      );
      notify.dashboards.runsChanged();
      notify.workers.workAvailable();
      return { id: run.id };
    },

    async cancel(id) {
      const run = await repos.runs.get(id);
      if (!run) throw new ChorusError('not-found', `run ${id} does not exist`);
      if (run.status === 'cancelled') return run;
      if (TERMINAL_RUN_STATUSES.includes(run.status)) {
        throw new ChorusError(
          'conflict',
          `run ${id} has already ${run.status === 'completed' ? 'completed' : 'failed'}: it cannot be cancelled`,
        );
      }
      const cancelled = await finish(id, 'cancelled', { error: 'cancelled by an administrator' });
      if (!cancelled) {
        const now = await repos.runs.get(id);
        throw new ChorusError(
          'conflict',
          `run ${id} ended (${now?.status ?? 'deleted'}) before it could be cancelled`,
        );
      }
      return cancelled;
    },

    async remove(id) {
      const memberIds = await repos.runs.deleteEnded(id);
      if (memberIds === null) {
        const run = await repos.runs.get(id);
        if (!run) throw new ChorusError('not-found', `run ${id} does not exist`);
        throw new ChorusError('conflict', `run ${id} is ${run.status}: cancel it before deleting it`);
      }
      deps.plans.forget(id);
      const checkpointDirs = await deps.checkpoints.removeMembers(memberIds);
      await rm(join(deps.dataDir, 'exports', id), { recursive: true, force: true });
      logger.info({ runId: id, members: memberIds.length, checkpointDirs }, 'run deleted');
      notify.dashboards.runsChanged();
      return { id, deleted: true, checkpointDirs };
    },

    finish,
  };
}
