import { io, type Socket } from 'socket.io-client';
import {
  DASHBOARD_NAMESPACE,
  RunNotificationSchema,
  type CoordinatorToDashboardEvents,
  type DashboardToCoordinatorEvents,
  type RunNotification,
} from '@chorus/protocol';

type DashboardSocket = Socket<CoordinatorToDashboardEvents, DashboardToCoordinatorEvents>;

export type ConnectionState = 'connecting' | 'live' | 'offline';

export interface CoordinatorEventHandlers {
  /** A notification for the joined run (validated against libs/protocol's schema). */
  onRun?: (notification: RunNotification) => void;
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
  options: { reconnectionDelayMax?: number } = {},
): () => void {
  const socket: DashboardSocket = io(`${coordinatorUrl}${DASHBOARD_NAMESPACE}`, {
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
    socket.emit('run:join', { runId }, (ack) => {
      if (ack.ok) joined();
      else setState('offline');
    });
  });
  socket.on('disconnect', () => setState('offline'));
  socket.on('connect_error', () => setState('offline'));
  socket.on('run:changed', (payload) => {
    const parsed = RunNotificationSchema.safeParse(payload);
    if (parsed.success && parsed.data.runId === runId) handlers().onRun?.(parsed.data);
  });
  socket.on('runs:changed', () => handlers().onRunsChanged?.());
  socket.on('workers:changed', () => handlers().onWorkersChanged?.());
  return () => {
    socket.removeAllListeners();
    socket.disconnect();
  };
}
