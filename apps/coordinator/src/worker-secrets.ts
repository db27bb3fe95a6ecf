import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Worker session secrets (apps/coordinator/README.md, "Worker identity"): 32 random bytes issued at a
 * worker id's first registration; only their sha256 is stored, in the Worker row.
 */

/** A fresh secret (base64url, as WorkerSecretSchema reads it) and the hash to store. */
export function issueWorkerSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashWorkerSecret(secret) };
}

export function hashWorkerSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` hashes to `storedHash`, compared in constant time (both are 32-byte digests). */
export function workerSecretMatches(storedHash: string, secret: string | undefined): boolean {
  if (secret === undefined) return false;
  const expected = Buffer.from(storedHash, 'hex');
  const given = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === given.length && timingSafeEqual(expected, given);
}
