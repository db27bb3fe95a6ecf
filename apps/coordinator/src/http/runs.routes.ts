import type { FastifyInstance } from 'fastify';
import type { Repositories } from '@chorus/db';
import type { PlanService } from '../services/plan.service';
import type { RunService } from '../services/run.service';
import { runSummary } from '@chorus/db';
import { runDetail, runEvaluations } from '../services/run-view';
import { WhatIfQuerySchema } from '@chorus/protocol';
import { computeWhatIf } from '../services/what-if';
import { requireBearer } from './auth';
import { RunListQuerySchema, RunParamsSchema } from './params';

export function registerRunRoutes(
  app: FastifyInstance,
  deps: { adminToken: string; repos: Repositories; runs: RunService; plans: PlanService },
): void {
  const admin = requireBearer(deps.adminToken, 'admin');

  app.get('/api/runs', async (request) => {
    const query = RunListQuerySchema.parse(request.query);
    const runs = await deps.repos.runs.list(query);
    return { runs: runs.map(runSummary) };
  });

  app.post('/api/runs', { preHandler: admin }, async (request, reply) => {
    const { id } = await deps.runs.create(request.body ?? {});
    return reply.status(201).send({ id });
  });

  app.get('/api/runs/:id', async (request) => {
    const { id } = RunParamsSchema.parse(request.params);
    return runDetail(deps.repos, id);
  });

  app.get('/api/runs/:id/evaluations', async (request) => {
    const { id } = RunParamsSchema.parse(request.params);
    return runEvaluations(deps.repos, id);
  });

  app.get('/api/runs/:id/metrics', async (request) => {
    const { id } = RunParamsSchema.parse(request.params);
    return { points: await deps.repos.metrics.listForRun(id) };
  });

  // A sub-ensemble's scores from stored predictions (the dashboard's what-if panel): the true
  // labels live in the run's dataset bundle, which only the coordinator holds.
  app.get('/api/runs/:id/what-if', async (request) => {
    const { id } = RunParamsSchema.parse(request.params);
    return computeWhatIf(deps, id, WhatIfQuerySchema.parse(request.query));
  });

  app.post('/api/runs/:id/cancel', { preHandler: admin }, async (request) => {
    const { id } = RunParamsSchema.parse(request.params);
    const run = await deps.runs.cancel(id);
    return { id: run.id, status: run.status };
  });
}
