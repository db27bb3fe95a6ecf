import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import {
  ChorusError,
  checkDashboardTicket,
  connectRefusal,
  DASHBOARD_NAMESPACE,
  DashboardAuthSchema,
  SOCKET_NAMESPACES,
} from '@chorus/protocol';
import { checkAccess, type AccessPolicy } from '../http/auth';

/**
 * The `/dashboard` namespace's middleware: its access level (libs/protocol SOCKET_NAMESPACES) as
 * for HTTP routes (http/auth.ts), where a dashboard ticket (`auth.ticket`, signed by the dashboard
 * server with a key derived from the viewer token) stands for the viewer token. A ticket is checked
 * when the socket connects; a reconnection needs a fresh one.
 */
export function dashboardAccess(deps: { policy: AccessPolicy; now: () => number; logger: Logger }) {
  const level = SOCKET_NAMESPACES[DASHBOARD_NAMESPACE];
  return (socket: Socket, next: (error?: Error) => void): void => {
    const refuse = (error: Error): void => {
      deps.logger.warn({ address: socket.handshake.address, reason: error.message }, 'dashboard refused');
      next(error);
    };
    const auth = DashboardAuthSchema.safeParse(socket.handshake.auth ?? {});
    if (!auth.success)
      return refuse(connectRefusal('invalid-input', 'auth must be { token } or { ticket } (strings)'));
    const { ticket, token } = auth.data;
    if (ticket !== undefined && deps.policy.requireAuth) {
      checkDashboardTicket(deps.policy.viewerToken, ticket, deps.now()).then(
        (problem) =>
          problem === null
            ? next()
            : refuse(
                connectRefusal(
                  'unauthorized',
                  `dashboard ticket ${problem}: ask the dashboard server for a fresh one (tickets last a minute and are signed with the viewer token)`,
                ),
              ),
        (error: unknown) => refuse(connectRefusal('internal', `cannot check the ticket: ${String(error)}`)),
      );
      return;
    }
    try {
      checkAccess(level, deps.policy, token, `the ${DASHBOARD_NAMESPACE} namespace`);
      next();
    } catch (error) {
      if (!(error instanceof ChorusError)) throw error;
      refuse(
        connectRefusal(
          error.code,
          error.code === 'unauthorized'
            ? `the ${DASHBOARD_NAMESPACE} namespace needs auth.token (the viewer or admin token) or auth.ticket (from the dashboard server)`
            : error.message,
        ),
      );
    }
  };
}
