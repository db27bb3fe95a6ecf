'use client';

import { useEffect, useRef, useState } from 'react';
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
   * render and the join, or while offline, so refetch from the database (DESIGN.md: sockets
   * notify, the database remembers).
   */
  onResync?: () => void;
}

/**
 * Subscribes to the coordinator's read-only `/dashboard` namespace (joining room `run:<id>` when
 * `runId` is given). WebSocket transport only: no long-polling, hence no cross-origin XHR.
 */
export function useCoordinatorEvents(
  coordinatorUrl: string,
  runId: string | null,
  handlers: CoordinatorEventHandlers,
): ConnectionState {
  const [state, setState] = useState<ConnectionState>('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    const socket: DashboardSocket = io(`${coordinatorUrl}${DASHBOARD_NAMESPACE}`, {
      transports: ['websocket'],
      reconnectionDelayMax: 5_000,
    });
    socket.on('connect', () => {
      const done = () => {
        setState('live');
        latest.current.onResync?.();
      };
      if (runId === null) return done();
      socket.emit('run:join', { runId }, (ack) => {
        if (ack.ok) done();
        else setState('offline');
      });
    });
    socket.on('disconnect', () => setState('offline'));
    socket.on('connect_error', () => setState('offline'));
    socket.on('run:changed', (payload) => {
      const parsed = RunNotificationSchema.safeParse(payload);
      if (parsed.success && parsed.data.runId === runId) latest.current.onRun?.(parsed.data);
    });
    socket.on('runs:changed', () => latest.current.onRunsChanged?.());
    socket.on('workers:changed', () => latest.current.onWorkersChanged?.());
    return () => {
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [coordinatorUrl, runId]);

  return state;
}
