import { z } from 'zod';

/**
 * A worker's `GET /health` (`chorus worker --health-port`): 200 with this body while it is
 * connected to its coordinator, 503 with it otherwise. For process supervisors and orchestrators.
 */
export const WorkerHealthSchema = z.object({
  ok: z.boolean(),
  /** Connected to the coordinator's `/workers` namespace now. */
  connected: z.boolean(),
  /** Draining (SIGTERM or the coordinator's `worker:drain`): handing its members back, then exiting. */
  draining: z.boolean(),
  workerId: z.string(),
  name: z.string(),
  backend: z.string(),
  device: z.string(),
  slots: z.number().int(),
  membersHeld: z.number().int(),
  /** Milliseconds since a training step last finished here; null before the first. */
  lastStepAgeMs: z.number().int().nullable(),
});
export type WorkerHealth = z.infer<typeof WorkerHealthSchema>;
