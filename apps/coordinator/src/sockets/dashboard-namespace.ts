import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import type { Repositories } from '@chorus/db';
import {
  ChorusError,
  DashboardJoinSchema,
  runRoom,
  type CoordinatorToDashboardEvents,
  type DashboardToCoordinatorEvents,
} from '@chorus/protocol';
import type { DashboardNotifier } from '../notifications';
import type { TaskQueue } from '../services/task-queue';
import { acknowledged } from './acks';

export type DashboardNamespace = Namespace<DashboardToCoordinatorEvents, CoordinatorToDashboardEvents>;

export function createDashboardNotifier(ns: DashboardNamespace): DashboardNotifier {
  return {
    runsChanged: () => ns.emit('runs:changed'),
    workersChanged: () => ns.emit('workers:changed'),
    runChanged: (notification) => ns.to(runRoom(notification.runId)).emit('run:changed', notification),
  };
}

/**
 * The `/dashboard` namespace is read-only: a dashboard joins the room of the run it shows and
 * receives notifications; it reads state over HTTP (and refetches after a reconnect).
 */
export function registerDashboardNamespace(
  ns: DashboardNamespace,
  deps: { repos: Repositories; queue: TaskQueue; logger: Logger },
): void {
  ns.on('connection', (socket) => {
    socket.on(
      'run:join',
      acknowledged(
        { event: 'run:join', schema: DashboardJoinSchema, logger: deps.logger, queue: deps.queue },
        async ({ runId }) => {
          if (!(await deps.repos.runs.get(runId)))
            throw new ChorusError('not-found', `run ${runId} does not exist`);
          await socket.join(runRoom(runId));
          return {};
        },
      ),
    );
    socket.on('run:leave', (payload: unknown) => {
      const parsed = DashboardJoinSchema.safeParse(payload);
      if (parsed.success) void socket.leave(runRoom(parsed.data.runId));
    });
  });
}
