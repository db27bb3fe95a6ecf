import { parseWhatIfSearchParams, whatIfQuery } from '../../../../../lib/run-what-if';
import { coordinatorApi, coordinatorFailure } from '../../../../../server/coordinator';
import { repositories } from '../../../../../server/repositories';
import { jsonAnswer, jsonError, runIdOf } from '../params';

export const dynamic = 'force-dynamic';

/**
 * GET ?members=0,2&strategy=soft: validated here against the run's members, then computed by the
 * coordinator (GET /api/runs/:id/what-if), which holds the true labels in the run's dataset bundle.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const id = runIdOf((await params).id);
  if (!id) return jsonError(400, 'not a run id');
  const run = await repositories().runs.get(id);
  if (!run) return jsonError(404, `run ${id} does not exist`);
  const input = parseWhatIfSearchParams(new URL(request.url).searchParams, run.members.length);
  if (!input.ok) return jsonError(400, input.message);

  try {
    const result = await coordinatorApi().getWhatIf(
      { params: { id }, query: whatIfQuery(input.value) },
      { signal: AbortSignal.timeout(30_000) },
    );
    // Encoded with the schema the browser decodes it with (DASHBOARD_ROUTES.getWhatIf).
    return jsonAnswer('getWhatIf', result);
  } catch (error) {
    const failure = coordinatorFailure(error, '; the what-if needs it (it holds the test labels)');
    return jsonError(failure.status, failure.message);
  }
}
