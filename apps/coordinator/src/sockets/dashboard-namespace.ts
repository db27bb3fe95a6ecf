import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import type { Repositories } from '@chorus/db';
import {
  ChorusError,
  CoordinatorToDashboardCatalog,
  DashboardToCoordinatorCatalog,
  emitEvent,
  handleEvent,
  runRoom,
  type CoordinatorToDashboardEvents,
  type DashboardToCoordinatorEvents,
} from '@chorus/protocol';
import type { DashboardNotifier } from '../notifications';
import type { TaskQueue } from '../services/task-queue';
import type { AccessPolicy } from '../http/auth';
import { coordinatorHandling } from './acks';
import { dashboardAccess } from './dashboard-access';

export type DashboardNamespace = Namespace<DashboardToCoordinatorEvents, CoordinatorToDashboardEvents>;

export function createDashboardNotifier(ns: DashboardNamespace): DashboardNotifier {
  return {
    runsChanged: () => emitEvent(ns, CoordinatorToDashboardCatalog, 'runs:changed'),
    workersChanged: () => emitEvent(ns, CoordinatorToDashboardCatalog, 'workers:changed'),
    runChanged: (notification) =>
      emitEvent(
        ns.to(runRoom(notification.runId)),
        CoordinatorToDashboardCatalog,
        'run:changed',
        notification,
      ),
  };
}

/**
 * The `/dashboard` namespace is read-only, behind the viewer level (dashboard-access.ts): a dashboard joins the room of the run it shows and
 * receives notifications; it reads state over HTTP (and refetches after a reconnect).
 */
export function registerDashboardNamespace(
  ns: DashboardNamespace,
  deps: { repos: Repositories; queue: TaskQueue; logger: Logger; policy: AccessPolicy; now: () => number },
): void {
  const handling = coordinatorHandling(deps.logger, deps.queue);
  ns.use(dashboardAccess(deps));
  ns.on('connection', (socket) => {
    handleEvent(
      socket,
      DashboardToCoordinatorCatalog,
      'run:join',
      async ({ runId }) => {
        if (!(await deps.repos.runs.get(runId)))
          throw new ChorusError('not-found', `run ${runId} does not exist`);
        await socket.join(runRoom(runId));
        return {};
      },
      handling,
    );
    handleEvent(
      socket,
      DashboardToCoordinatorCatalog,
      'run:leave',
      async ({ runId }) => {
        await socket.leave(runRoom(runId));
      },
      handling,
    );
  });
}
