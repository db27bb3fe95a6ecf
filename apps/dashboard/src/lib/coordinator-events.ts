import { io, type Socket } from 'socket.io-client';
import {
  CoordinatorToDashboardCatalog,
  DashboardHttpError,
  DASHBOARD_NAMESPACE,
  DashboardToCoordinatorCatalog,
  fetchDashboardRoute,
  handleEvent,
  requestEvent,
  type CoordinatorToDashboardEvents,
  type DashboardAuth,
  type DashboardToCoordinatorEvents,
  type RunNotification,
} from '@chorus/protocol';

type DashboardSocket = Socket<CoordinatorToDashboardEvents, DashboardToCoordinatorEvents>;

export type ConnectionState = 'connecting' | 'live' | 'offline';

export interface CoordinatorEventHandlers {
  /** A notification for the joined run (validated against libs/protocol's catalog). */
  onRun?: (notification: RunNotification) => void;
  /** A notification that does not match the protocol, ignored: `reason` names the fields. */
  onInvalid?: (reason: string) => void;
  onRunsChanged?: () => void;
  onWorkersChanged?: () => void;
  /**
   * After every join, the first included: notifications may have been missed between the server
   * render and the join, or while offline, so refetch from the database (sockets notify,
   * the database remembers: ARCHITECTURE.md, "Messages").
   */
  onResync?: () => void;
  onState?: (state: ConnectionState) => void;
}

/**
 * Subscribes to the coordinator's read-only `/dashboard` namespace, joining room `run:<id>` when
 * `runId` is given, on every (re)connection. WebSocket transport only: no long-polling, hence no
 * cross-origin XHR. `handlers()` is read at each event, so callers may swap handlers freely.
 * Returns the unsubscribe function.
 */
export function subscribeCoordinatorEvents(
  coordinatorUrl: string,
  runId: string | null,
  handlers: () => CoordinatorEventHandlers,
  options: {
    reconnectionDelayMax?: number;
    /** The socket's credentials, asked for before every (re)connection (a ticket lasts a minute). */
    auth?: () => Promise<DashboardAuth>;
  } = {},
): () => void {
  const auth = options.auth;
  const socket: DashboardSocket = io(`${coordinatorUrl}${DASHBOARD_NAMESPACE}`, {
    ...(auth && { auth: (cb: (data: object) => void) => void auth().then(cb, () => cb({})) }),
    transports: ['websocket'],
    reconnectionDelayMax: options.reconnectionDelayMax ?? 5_000,
    forceNew: true,
  });
  const setState = (state: ConnectionState) => handlers().onState?.(state);
  socket.on('connect', () => {
    const joined = () => {
      setState('live');
      handlers().onResync?.();
    };
    if (runId === null) return joined();
    void requestEvent(socket, DashboardToCoordinatorCatalog, 'run:join', { runId }).then(
      (ack) => (ack.ok ? joined() : setState('offline')),
      () => setState('offline'),
    );
  });
  socket.on('disconnect', () => setState('offline'));
  socket.on('connect_error', () => setState('offline'));
  const ignoring = {
    onRefused: (_event: string, refusal: { message: string }) => handlers().onInvalid?.(refusal.message),
  };
  handleEvent(
    socket,
    CoordinatorToDashboardCatalog,
    'run:changed',
    (notification) => {
      if (notification.runId === runId) handlers().onRun?.(notification);
    },
    ignoring,
  );
  handleEvent(
    socket,
    CoordinatorToDashboardCatalog,
    'runs:changed',
    () => handlers().onRunsChanged?.(),
    ignoring,
  );
  handleEvent(
    socket,
    CoordinatorToDashboardCatalog,
    'workers:changed',
    () => handlers().onWorkersChanged?.(),
    ignoring,
  );
  return () => {
    socket.removeAllListeners();
    socket.disconnect();
  };
}

/**
 * A fresh ticket from the dashboard server (DASHBOARD_ROUTES.socketTicket,
 * app/api/socket-ticket/route.ts), as the socket's `auth`; `{}` when it has none to give (no viewer
 * token: the coordinator is open to reads) or answers an error (the coordinator then refuses the
 * socket, and the page says it is offline). An answer that does not match DashboardTicketAnswerSchema
 * throws a ChorusError naming the route and the fields. `baseUrl` for a caller outside the page.
 */
export async function fetchSocketTicket(baseUrl?: string): Promise<DashboardAuth> {
  try {
    const answer = await fetchDashboardRoute('socketTicket', {}, baseUrl === undefined ? {} : { baseUrl });
    return answer.ticket !== null ? { ticket: answer.ticket } : {};
  } catch (error) {
    if (error instanceof DashboardHttpError) return {};
    throw error;
  }
}
