import { encodeDashboardAnswer, signDashboardTicket } from '@chorus/protocol';
import { dashboardServer } from '../../../server/repositories';

export const dynamic = 'force-dynamic';

/**
 * A short-lived ticket for the browser's socket to the coordinator's `/dashboard` namespace,
 * signed with a key derived from the viewer token this server holds (libs/protocol
 * dashboard-ticket.ts): the browser never sees the token. `{ ticket: null }` without a viewer
 * token (the coordinator is then open to reads on loopback). The browser asks before every
 * (re)connection (lib/coordinator-events.ts).
 */
export async function GET() {
  const { viewerToken } = dashboardServer().env;
  const body =
    viewerToken === undefined ? { ticket: null } : await signDashboardTicket(viewerToken, Date.now());
  return Response.json(encodeDashboardAnswer('socketTicket', body), {
    headers: { 'cache-control': 'no-store' },
  });
}
