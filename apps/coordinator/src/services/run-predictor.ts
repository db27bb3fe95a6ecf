import type { CheckpointStore } from '../checkpoint-store';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Repositories } from '@chorus/db';
import type { LoadedEnsemble } from '@chorus/models';
import { ChorusError, parsePredictRows, type PredictAnswer } from '@chorus/protocol';
import type { PlanService } from './plan.service';
import { runExportCheckpoint, runExportSource } from './run-export';

/** Runs whose members stay loaded; a predict on another run loads it and drops the least recent. */
const LOADED_RUNS = 2;

export interface RunPredictor {
  /** POST /api/runs/:id/predict: the answer for the body's raw rows (libs/protocol predict.ts). */
  predict(runId: string, body: unknown): Promise<PredictAnswer>;
  /** Disposes every loaded ensemble (the coordinator's close). */
  close(): void;
}

type Models = typeof import('@chorus/models');

/**
 * Predictions of a completed run's ensemble. The coordinator trains nothing and never loads
 * TensorFlow.js at start (its start-up and every other route stay as light as before); the first
 * predict request imports libs/models, and only then. A run is loaded once: its members rebuilt
 * from their final stored checkpoints and written as an export under `<dataDir>/exports/<runId>`
 * from the parts `GET /api/runs/:id/export` hands `chorus export` (run-export.ts) — the very files
 * `chorus export` writes — then read back with readEnsembleExport, so the answer is the one
 * `chorus serve` gives for that export. The directory stays (a restarted coordinator reads it again
 * instead of rebuilding); at most LOADED_RUNS runs stay in memory.
 */
export function createRunPredictor(deps: {
  repos: Repositories;
  plans: PlanService;
  checkpoints: CheckpointStore;
  dataDir: string;
  logger: Logger;
}): RunPredictor {
  const loaded = new Map<string, Promise<LoadedEnsemble>>();
  let models: Promise<Models> | undefined;

  const libs = (): Promise<Models> => {
    models ??= (async () => {
      const lib = await import('@chorus/models');
      // wasm (cpu if it cannot start), never tensorflow: a GPU on this machine is for its workers.
      const backend = await lib.selectBackend('wasm').catch(() => lib.selectBackend('cpu'));
      deps.logger.info({ backend: backend.backend }, 'predict: TensorFlow.js loaded');
      return lib;
    })();
    return models;
  };

  const ensembleOf = (runId: string): Promise<LoadedEnsemble> => {
    const cached = loaded.get(runId);
    if (cached) {
      loaded.delete(runId); // most recent last
      loaded.set(runId, cached);
      return cached;
    }
    const loading = load(runId);
    loaded.set(runId, loading);
    loading.catch(() => loaded.delete(runId)); // a failure is retried next time
    while (loaded.size > LOADED_RUNS) {
      const [oldest, evicted] = loaded.entries().next().value as [string, Promise<LoadedEnsemble>];
      loaded.delete(oldest);
      // predictWithEnsemble runs without awaiting once started, so no request is mid-way in it.
      evicted.then((e) => e.dispose()).catch(() => {});
    }
    return loading;
  };

  const load = async (runId: string): Promise<LoadedEnsemble> => {
    const lib = await libs();
    const dir = join(deps.dataDir, 'exports', runId);
    try {
      return await lib.readEnsembleExport(dir);
    } catch {
      // Not written yet, or damaged: (re)build it from the database.
      await rm(dir, { recursive: true, force: true });
    }
    await writeRunExport(lib, runId, dir);
    deps.logger.info({ runId, dir }, 'predict: run exported');
    return lib.readEnsembleExport(dir);
  };

  /** The export `chorus export` would write, from the same parts (services/run-export.ts). */
  const writeRunExport = async (lib: Models, runId: string, dir: string): Promise<void> => {
    const source = await runExportSource(deps, runId);
    const checkpoints: Uint8Array[] = [];
    for (const member of source.members) {
      checkpoints.push(
        await deps.checkpoints.bytesOf(await runExportCheckpoint(deps.repos, runId, member.index)),
      );
    }
    const { inputShape, numClasses } = source.dataset;
    const members = await lib.modelsFromCheckpoints(source.config, { inputShape, numClasses }, checkpoints);
    try {
      await lib.writeEnsembleExport(dir, {
        runId: source.runId,
        config: source.config,
        dataset: source.dataset,
        result: source.result,
        combiners: source.combiners,
        models: members,
      });
    } finally {
      members.forEach((m) => lib.disposeModel(m));
    }
  };

  return {
    async predict(runId, body) {
      const run = await deps.repos.runs.get(runId);
      if (!run) throw new ChorusError('not-found', `run ${runId} does not exist`);
      if (run.status !== 'completed') {
        throw new ChorusError(
          'conflict',
          `run ${runId} is ${run.status}: only a completed run's ensemble predicts`,
        );
      }
      const ensemble = await ensembleOf(runId);
      const { dataset, defaultStrategy } = ensemble.manifest;
      const features = dataset.inputShape.reduce((a, b) => a * b, 1);
      const { x, count } = parsePredictRows(body, { features });
      const lib = await libs();
      const predictions = await lib.predictEnsembleRows(ensemble, x, count);
      return { strategy: defaultStrategy, classNames: lib.classNamesOf(dataset), predictions };
    },
    close() {
      for (const loading of loaded.values()) loading.then((e) => e.dispose()).catch(() => {});
      loaded.clear();
    },
  };
}
