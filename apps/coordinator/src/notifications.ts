import type { LeaseRef, RunNotification } from '@chorus/protocol';

/**
 * What the services tell connected clients. Sockets only notify (ARCHITECTURE.md, "Messages"): the
 * database holds the state, and a client that missed a notification refetches it.
 */
export interface WorkerNotifier {
  /** Work was queued: every connected worker may ask with `member:request`. */
  workAvailable(): void;
  /** Work is waiting for this worker in particular (a member handed over to it). */
  workAvailableFor(workerId: string): void;
  /** Tells a worker (all its connections) to stop training a member. */
  revoke(workerId: string, lease: LeaseRef, reason: string): void;
  /** Asks a worker to checkpoint the member and release it (`member:handover`). */
  handover(workerId: string, lease: LeaseRef, reason: string): void;
  /** Asks a worker to release all its members and exit (`worker:drain`). */
  drain(workerId: string, reason: string): void;
  /** Whether the worker has a socket open now. */
  connected(workerId: string): Promise<boolean>;
}

export interface DashboardNotifier {
  runsChanged(): void;
  workersChanged(): void;
  /** To the room `run:<id>` of the dashboard namespace. */
  runChanged(notification: RunNotification): void;
}

export interface Notifiers {
  workers: WorkerNotifier;
  dashboards: DashboardNotifier;
}
