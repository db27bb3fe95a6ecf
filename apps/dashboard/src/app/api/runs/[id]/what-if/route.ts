import { parseWhatIfSearchParams, whatIfSearch, WhatIfResultSchema } from '../../../../../lib/run-what-if';
import { dashboardServer, repositories } from '../../../../../server/repositories';
import { jsonError, runIdOf } from '../params';

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

  const { coordinatorUrl } = dashboardServer().env;
  let response: Response;
  try {
    response = await fetch(
      `${coordinatorUrl}/api/runs/${encodeURIComponent(id)}/what-if?${whatIfSearch(input.value)}`,
      {
        cache: 'no-store',
        signal: AbortSignal.timeout(30_000),
      },
    );
  } catch (error) {
    return jsonError(
      503,
      `The coordinator at ${coordinatorUrl} cannot be reached (${(error as Error).message}); the what-if needs it (it holds the test labels). Is it running?`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as { message?: unknown };
  if (!response.ok) {
    const message =
      typeof body.message === 'string' ? body.message : `the coordinator answered HTTP ${response.status}`;
    return jsonError(response.status, message);
  }
  const result = WhatIfResultSchema.safeParse(body);
  if (!result.success)
    return jsonError(502, 'the coordinator answered in an unexpected shape (another Chorus version?)');
  return Response.json(result.data, { headers: { 'cache-control': 'no-store' } });
}
