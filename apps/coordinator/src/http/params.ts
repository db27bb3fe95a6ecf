import { z } from 'zod';
import { RunStatus } from '@chorus/db';

/** Ids are cuids (runs, members); anything else in a path is refused before it reaches a query. */
export const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id (letters, digits, _ or -, at most 64)');

export const RunParamsSchema = z.object({ id: IdSchema });
export const DatasetParamsSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
});
export const CheckpointParamsSchema = z.object({
  memberId: IdSchema,
  epoch: z.coerce.number().int().min(0).max(1_000_000),
});
export const RunListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(RunStatus).optional(),
});
