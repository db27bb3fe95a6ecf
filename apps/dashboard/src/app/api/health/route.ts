import { repositories } from '../../../server/repositories';

export const dynamic = 'force-dynamic';

/** Liveness for the launcher and load balancers: 200 once the database answers, 503 otherwise. */
export async function GET() {
  try {
    await repositories().runs.list({ limit: 1 });
    return Response.json({ ok: true });
  } catch (error) {
    return Response.json({ ok: false, message: `database unreachable: ${(error as Error).message}` }, { status: 503 });
  }
}
