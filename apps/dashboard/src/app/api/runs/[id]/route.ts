import { loadRunPage } from '../../../../server/run-data';
import { repositories } from '../../../../server/repositories';
import { jsonAnswer, jsonError, runIdOf } from './params';

export const dynamic = 'force-dynamic';

/**
 * The whole run page's data (what the server rendered), encoded with libs/protocol's RunPageSchema
 * (DASHBOARD_ROUTES.getRunPage): the browser refetches it after every (re)join.
 */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const id = runIdOf((await params).id);
  if (!id) return jsonError(400, 'not a run id');
  const data = await loadRunPage(repositories(), id);
  if (!data) return jsonError(404, `run ${id} does not exist`);
  return jsonAnswer('getRunPage', data);
}
