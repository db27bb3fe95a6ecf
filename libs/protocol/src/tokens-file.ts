import { z } from 'zod';

/** Shortest token accepted: anything shorter is guessable. */
export const MIN_TOKEN_LENGTH = 16;

/** The file in the coordinator's data dir holding the tokens it generated (mode 0600). */
export const TOKENS_FILE = 'tokens.json';

/**
 * `<dataDir>/tokens.json`: written by the coordinator on its first start, read back by it on every
 * restart and, on the same machine, by `chorus tokens`, `chorus worker`, `chorus run` and
 * `chorus dashboard` (the viewer token).
 */
export const TokensFileSchema = z.object({
  workerToken: z.string().min(MIN_TOKEN_LENGTH),
  adminToken: z.string().min(MIN_TOKEN_LENGTH),
  /** Read-only access (README "Operating Chorus"); files written before it existed lack it and get one added. */
  viewerToken: z.string().min(MIN_TOKEN_LENGTH).optional(),
});
export type TokensFile = z.infer<typeof TokensFileSchema>;
