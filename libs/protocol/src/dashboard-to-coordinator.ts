import { z } from 'zod';
import { EMPTY_ACK, type SocketCatalog, type SocketEvents } from './typed-socket';

export const DashboardJoinSchema = z.object({ runId: z.string().min(1).max(64) });

/** Dashboard → coordinator, on the read-only `/dashboard` namespace: joining a run's room `run:<id>`. */
export const DashboardToCoordinatorCatalog = {
  /** Refused with 'not-found' when the run does not exist. */
  'run:join': { message: DashboardJoinSchema, ack: EMPTY_ACK },
  'run:leave': { message: DashboardJoinSchema },
} satisfies SocketCatalog;

export type DashboardToCoordinatorEvents = SocketEvents<typeof DashboardToCoordinatorCatalog>;

/** Room of a run on the dashboard namespace. */
export const runRoom = (runId: string): string => `run:${runId}`;
