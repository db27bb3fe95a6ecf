import { loadRunState } from '../../../../../server/run-data';
import { repositories } from '../../../../../server/repositories';
import { jsonAnswer, jsonError, runIdOf } from '../params';

export const dynamic = 'force-dynamic';

/**
 * The run's status, members, evaluations and tables without its curves, encoded with libs/protocol's
 * RunStateSchema (DASHBOARD_ROUTES.getRunState): refetched after each notification.
 */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const id = runIdOf((await params).id);
  if (!id) return jsonError(400, 'not a run id');
  const state = await loadRunState(repositories(), id);
  if (!state) return jsonError(404, `run ${id} does not exist`);
  return jsonAnswer('getRunState', state);
}
