import { io, type Socket } from 'socket.io-client';
import {
  ChorusError,
  CoordinatorToDashboardCatalog,
  DASHBOARD_NAMESPACE,
  DashboardToCoordinatorCatalog,
  handleEvent,
  requestEvent,
  type CoordinatorToDashboardEvents,
  type DashboardToCoordinatorEvents,
  type HttpClient,
  type MemberMetrics,
  type RunDetail,
  type RunNotification,
} from '@chorus/protocol';
import type { SocketAccess } from './coordinator-options';
import type { MemberProgress } from './local-train';

type DashboardSocket = Socket<CoordinatorToDashboardEvents, DashboardToCoordinatorEvents>;

const ENDED = ['completed', 'failed', 'cancelled'];

/** A member's progress line from a `metrics` notification (`totalSteps`: from the run's view). */
export function memberProgressOf(m: MemberMetrics, totalSteps: number): MemberProgress {
  return {
    member: m.index,
    epoch: m.epoch,
    step: m.step,
    totalSteps,
    loss: m.loss,
    accuracy: m.accuracy,
    samplesPerSecond: m.samplesPerSecond,
  };
}

export interface RunWatchHandlers {
  /** Each fresh view of the run over HTTP: at the start, after a notification, on each poll. */
  onRun?: (run: RunDetail) => void;
  /** A member's latest training point, as the coordinator streams it (about twice a second). */
  onMetrics?: (metrics: MemberMetrics) => void;
  /** Any notification of the run (metrics included), before the refetch it causes. */
  onNotification?: (notification: RunNotification) => void;
  /** The coordinator stopped answering (`error` says how); the watch keeps retrying. */
  onUnreachable?: (error: ChorusError) => void;
  /** It answers again after onUnreachable. */
  onReachable?: () => void;
}

export interface RunWatchOptions {
  /** Seconds between HTTP refetches while the socket is down (default 1 s). */
  pollMs?: number;
  /** ... and while it is live: a safety net for a missed notification (default 5 s). */
  livePollMs?: number;
}

/**
 * Follows a run until it ends and resolves with its last view. The `/dashboard` socket notifies
 * (metrics are passed on as they come; any other change causes a refetch); the HTTP API is the
 * source of truth, polled faster while the socket is down. A coordinator that goes away after the
 * first answer (a restart) is waited for: the socket reconnects, rejoins and the run is refetched.
 * An unknown run, or a coordinator that never answered, is an error at once.
 */
export async function watchRun(
  client: HttpClient & { readonly socket?: SocketAccess },
  runId: string,
  handlers: RunWatchHandlers,
  options: RunWatchOptions = {},
): Promise<RunDetail> {
  let run = await client.getRun({ params: { id: runId } });
  handlers.onRun?.(run);
  if (ENDED.includes(run.status)) return run;

  let live = false;
  // A wake-up while no one sleeps (during a refetch) is kept for the next sleep.
  let woken = false;
  let wakeSleeper: (() => void) | undefined;
  const wake = () => {
    woken = true;
    wakeSleeper?.();
  };
  const socket: DashboardSocket = io(`${client.baseUrl}${DASHBOARD_NAMESPACE}`, {
    // The read token, when the coordinator needs one (bound beyond loopback); its CA over wss://.
    auth: (cb) => cb(client.socket?.auth() ?? {}),
    ...(client.socket?.ca !== undefined && { ca: client.socket.ca }),
    transports: ['websocket'],
    reconnectionDelayMax: 2_000,
    forceNew: true,
  });
  socket.on('connect', () => {
    void requestEvent(socket, DashboardToCoordinatorCatalog, 'run:join', { runId }).then(
      (ack) => {
        live = ack.ok;
        wake(); // notifications may have been missed while down: refetch
      },
      () => (live = false),
    );
  });
  socket.on('disconnect', () => (live = false));
  handleEvent(socket, CoordinatorToDashboardCatalog, 'run:changed', (notification) => {
    if (notification.runId !== runId) return;
    handlers.onNotification?.(notification);
    if (notification.kind === 'metrics') {
      for (const member of notification.data.members) handlers.onMetrics?.(member);
    } else {
      wake();
    }
  });

  let unreachable = false;
  try {
    for (;;) {
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, live ? (options.livePollMs ?? 5_000) : (options.pollMs ?? 1_000));
          wakeSleeper = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeSleeper = undefined;
      }
      woken = false;
      try {
        run = await client.getRun({ params: { id: runId } });
      } catch (error) {
        if (!(error instanceof ChorusError) || error.code !== 'unavailable') throw error;
        if (!unreachable) handlers.onUnreachable?.(error);
        unreachable = true;
        continue;
      }
      if (unreachable) handlers.onReachable?.();
      unreachable = false;
      handlers.onRun?.(run);
      if (ENDED.includes(run.status)) return run;
    }
  } finally {
    socket.removeAllListeners();
    socket.disconnect();
  }
}
