import { encodeDashboardAnswer, type DashboardErrorBody } from '@chorus/protocol';
import { repositories } from '../../../server/repositories';

export const dynamic = 'force-dynamic';

/** Liveness for the launcher and load balancers: 200 once the database answers, 503 otherwise (DASHBOARD_ROUTES.health). */
export async function GET() {
  try {
    await repositories().runs.list({ limit: 1 });
    return Response.json(encodeDashboardAnswer('health', { ok: true }));
  } catch (error) {
    const body: DashboardErrorBody = {
      ok: false,
      message: `database unreachable: ${(error as Error).message}`,
    };
    return Response.json(body, { status: 503 });
  }
}
