import type { CheckpointStore } from '../checkpoint-store';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Repositories } from '@chorus/db';
import { ChorusError, type PredictAnswer } from '@chorus/protocol';
import type { PlanService } from './plan.service';
import { createPredictPool, errorOfReply } from './predict-pool';
import { runExportCheckpoint, runExportSource } from './run-export';

export interface RunPredictor {
  /** POST /api/runs/:id/predict: the answer for the body's raw rows (libs/protocol predict.ts). */
  predict(runId: string, body: unknown): Promise<PredictAnswer>;
  /** Stops the predict thread (the coordinator's close). */
  close(): Promise<void>;
}

/**
 * Predictions of a completed run's ensemble. The coordinator trains nothing and never loads
 * TensorFlow.js on its main thread: every model job runs in one worker thread (predict-pool.ts,
 * predict-thread.ts), started by the first predict request, which imports libs/models there, so
 * heartbeats and every other route are answered while a batch is predicted; beyond
 * MAX_PREDICT_QUEUE waiting requests the route answers 503. A run is loaded once: its members
 * rebuilt from their final stored checkpoints and written as an export under
 * `<dataDir>/exports/<runId>` from the parts `GET /api/runs/:id/export` hands `chorus export`
 * (run-export.ts) — the very files `chorus export` writes — then read back with readEnsembleExport,
 * so the answer is the one `chorus serve` gives for that export. The directory stays (a restarted
 * coordinator reads it again instead of rebuilding); at most two runs stay in memory.
 */
export function createRunPredictor(deps: {
  repos: Repositories;
  plans: PlanService;
  checkpoints: CheckpointStore;
  dataDir: string;
  logger: Logger;
}): RunPredictor {
  const pool = createPredictPool({ logger: deps.logger });
  /** Exports being written, so that concurrent first requests write a run's once. */
  const writing = new Map<string, Promise<void>>();

  const writeRunExport = (runId: string, dir: string): Promise<void> => {
    let done = writing.get(runId);
    if (!done) {
      done = (async () => {
        // The database's part stays here; the members' rebuilding and writing go to the thread.
        const source = await runExportSource(deps, runId);
        const checkpoints: Uint8Array[] = [];
        for (const member of source.members) {
          checkpoints.push(
            await deps.checkpoints.bytesOf(await runExportCheckpoint(deps.repos, runId, member.index)),
          );
        }
        const reply = await pool.send({ kind: 'write-export', dir, source, checkpoints });
        if (reply.kind === 'failed') throw errorOfReply(reply);
        deps.logger.info({ runId, dir }, 'predict: run exported');
      })().finally(() => writing.delete(runId));
      writing.set(runId, done);
    }
    return done;
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
      const dir = join(deps.dataDir, 'exports', runId);
      for (let attempt = 0; ; attempt++) {
        const reply = await pool.send({ kind: 'predict', dir, body });
        if (reply.kind === 'answer') return reply.answer;
        if (reply.kind === 'failed') throw errorOfReply(reply);
        // Not written yet, or damaged: (re)build it from the database, once.
        if (attempt > 0) throw new ChorusError('internal', `the export of run ${runId} does not load`);
        await writeRunExport(runId, dir);
      }
    },
    close: () => pool.close(),
  };
}
