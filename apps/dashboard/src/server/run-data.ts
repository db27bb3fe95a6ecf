import { runDetailOf, type Repositories } from '@chorus/db/client';
import type { DiversityPanelData, MemberView, RunDetail, RunPageData, RunState } from '@chorus/protocol';
import { curvesFromPoints, MAX_POINTS_PER_MEMBER } from '../lib/run-curves';
import { finalTableOf } from '../lib/run-final-table';
import { roundSummaries } from '../lib/run-rounds';
import { validationCurves } from '../lib/run-validation';

/**
 * Everything the run page shows, read from the database (the source of truth: the page renders
 * it on the server and the browser refetches it through app/api/runs/[id] and its /state after a
 * reconnect or an evaluation). The shapes are libs/protocol's RunPageSchema and RunStateSchema:
 * the route handlers encode them with those schemas (dates as ISO strings) and the browser decodes
 * them (dates again), so both paths give the page the same values.
 */
export type { DiversityPanelData, RunPageData, RunState };
export type RunView = RunDetail;
export type RunMemberView = MemberView;

/** The run's status, members, evaluations and tables (not its curves); null if there is no such run. */
export async function loadRunState(repos: Repositories, id: string): Promise<RunState | null> {
  const run = await repos.runs.get(id);
  if (!run) return null;
  // Every evaluation row once: the detail's live and latest views and the test split's rounds.
  const workerIds = [...new Set(run.members.flatMap((m) => (m.workerId === null ? [] : [m.workerId])))];
  const [rows, diversityRows, workers] = await Promise.all([
    repos.evals.listEnsembleEvals(id),
    repos.evals.listDiversityEvals(id),
    Promise.all(workerIds.map((w) => repos.workers.get(w))),
  ]);
  const detail = runDetailOf(run, rows, diversityRows);
  const ensemble = rows.filter((e) => e.split === 'test');
  const diversity = diversityRows.filter((d) => d.split === 'test');
  const view = detail.latestRound ?? detail.live;
  const test = view?.diversity.test ?? null;
  return {
    run: detail,
    rounds: roundSummaries(ensemble, diversity),
    diversity:
      view && test
        ? {
            source: detail.latestRound ? 'round' : 'live',
            round: detail.latestRound ? detail.latestRound.round : null,
            memberCount: view.memberCount,
            pairwise: test.pairwise,
            summary: test.summary,
          }
        : null,
    finalTable: finalTableOf(detail),
    validation: validationCurves(rows, diversityRows),
    workerNames: Object.fromEntries(workers.flatMap((w) => (w ? [[w.id, w.name]] : []))),
    workerDevices: Object.fromEntries(workers.flatMap((w) => (w ? [[w.id, w.device]] : []))),
  };
}

/** The whole page: the state plus every member's loss and accuracy curve, downsampled. */
export async function loadRunPage(
  repos: Repositories,
  id: string,
  maxPointsPerMember = MAX_POINTS_PER_MEMBER,
): Promise<RunPageData | null> {
  const state = await loadRunState(repos, id);
  if (!state) return null;
  const points = await repos.metrics.listForRun(id);
  return { ...state, curves: curvesFromPoints(points, maxPointsPerMember) };
}
