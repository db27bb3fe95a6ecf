import { loadRunDetail, type Repositories } from '@chorus/db';
import { ChorusError, type DiversityEvalView, type EnsembleEvalView, type RunDetail } from '@chorus/protocol';

/** GET /api/runs/:id: the run view of libs/db (the dashboard renders the same shape). */
export async function runDetail(repos: Repositories, id: string): Promise<RunDetail> {
  const detail = await loadRunDetail(repos, id);
  if (!detail) throw new ChorusError('not-found', `run ${id} does not exist`);
  return detail;
}

/** GET /api/runs/:id/evaluations: every stored round (charts of accuracy and diversity over time). */
export async function runEvaluations(
  repos: Repositories,
  id: string,
): Promise<{ ensemble: EnsembleEvalView[]; diversity: DiversityEvalView[] }> {
  const run = await repos.runs.get(id);
  if (!run) throw new ChorusError('not-found', `run ${id} does not exist`);
  const [ensemble, diversity] = await Promise.all([
    repos.evals.listEnsembleEvals(id),
    repos.evals.listDiversityEvals(id),
  ]);
  return { ensemble, diversity };
}
