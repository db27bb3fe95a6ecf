import type { CheckpointStore } from '../checkpoint-store';
import type { FastifyInstance } from 'fastify';
import { loadRunsList, type Repositories } from '@chorus/db';
import type { PlanService } from '../services/plan.service';
import type { RunPredictor } from '../services/run-predictor';
import type { RunService } from '../services/run.service';
import { runDetail, runEvaluations } from '../services/run-view';
import { runExportCheckpoint, runExportSource } from '../services/run-export';
import { computeWhatIf } from '../services/what-if';
import { registerRoute, type RouteTokens } from './route';

export function registerRunRoutes(
  app: FastifyInstance,
  deps: RouteTokens & {
    repos: Repositories;
    runs: RunService;
    plans: PlanService;
    predictor: RunPredictor;
    checkpoints: CheckpointStore;
  },
): void {
  registerRoute(app, 'listRuns', deps, async ({ query }) => ({
    runs: await loadRunsList(deps.repos, query),
  }));

  registerRoute(app, 'createRun', deps, async ({ body }) => deps.runs.create(body));

  registerRoute(app, 'getRun', deps, async ({ params }) => runDetail(deps.repos, params.id));

  registerRoute(app, 'getRunEvaluations', deps, async ({ params }) => runEvaluations(deps.repos, params.id));

  registerRoute(app, 'getRunMetrics', deps, async ({ params }) => ({
    points: await deps.repos.metrics.listForRun(params.id),
  }));

  // A sub-ensemble's scores from stored predictions (the dashboard's what-if panel): the true
  // labels live in the run's dataset bundle, which only the coordinator holds.
  registerRoute(app, 'getWhatIf', deps, async ({ params, query }) => computeWhatIf(deps, params.id, query));

  // A completed run's ensemble on raw rows (services/run-predictor.ts: TensorFlow.js loads on the first call).
  registerRoute(app, 'predictRun', deps, async ({ params, body }) => deps.predictor.predict(params.id, body));

  // An export's manifest parts and each member's final checkpoint; `chorus export` writes the TF.js
  // files (the coordinator holds no tfjs; services/run-export.ts).
  registerRoute(app, 'getRunExport', deps, async ({ params }) => runExportSource(deps, params.id));

  registerRoute(app, 'getRunExportMember', deps, async ({ params, reply }) => {
    const checkpoint = await runExportCheckpoint(deps.repos, params.id, params.index);
    reply.header('content-type', 'application/octet-stream').header('x-chorus-epoch', checkpoint.epoch);
    if (checkpoint.file !== null) {
      const { stream, bytes } = await deps.checkpoints.open(checkpoint.file);
      return reply.header('content-length', bytes).send(stream);
    }
    const bytes = checkpoint.weights ?? new Uint8Array(0);
    return reply.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  registerRoute(app, 'cancelRun', deps, async ({ params }) => {
    const run = await deps.runs.cancel(params.id);
    return { id: run.id, status: run.status };
  });

  registerRoute(app, 'deleteRun', deps, async ({ params }) => deps.runs.remove(params.id));
}
