import { runDetailOf, type Repositories } from '@chorus/db/client';
import { curvesFromPoints, MAX_POINTS_PER_MEMBER, type MemberCurve } from '../lib/run-curves';
import type { DiversitySummary, PairwiseMatrices } from '../lib/run-diversity';
import { finalTableOf, type FinalTable } from '../lib/run-final-table';
import { roundSummaries, type RoundSummary } from '../lib/run-rounds';
import { validationCurves, type ValidationCurves } from '../lib/run-validation';

/**
 * Everything the run page shows, read from the database (the source of truth: the page renders
 * it on the server and the browser refetches it through app/api/runs/[id] after a reconnect or an
 * evaluation). Plain JSON: dates are ISO strings, so the same object serves both paths.
 */
export type Jsonified<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

const toJson = <T>(value: T): Jsonified<T> => JSON.parse(JSON.stringify(value)) as Jsonified<T>;

type RunDetail = ReturnType<typeof runDetailOf>;
export type RunView = Jsonified<RunDetail>;
export type RunMemberView = RunView['members'][number];

/** The diversity heatmaps' round: the latest complete one, else the live view. */
export interface DiversityPanelData {
  source: 'round' | 'live';
  round: number | null;
  memberCount: number;
  pairwise: PairwiseMatrices | null;
  summary: DiversitySummary | null;
}

export interface RunState {
  run: RunView;
  rounds: RoundSummary[];
  diversity: DiversityPanelData | null;
  finalTable: FinalTable | null;
  /** Members' and the soft vote's validation accuracy after each epoch (complete rounds). */
  validation: ValidationCurves;
  /** The names of the workers that hold members now, by worker id (the Workers page's names). */
  workerNames: Record<string, string>;
  /** What those workers train on, by worker id: the device string of their handshake ("GPU 0: …"). */
  workerDevices: Record<string, string>;
}

export interface RunPageData extends RunState {
  curves: MemberCurve[];
}

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
    run: toJson(detail) as RunView,
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
