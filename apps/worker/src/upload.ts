import { ChorusError, createHttpClient, type LeaseRef } from '@chorus/protocol';
import { delay } from './connection';

export interface CheckpointUpload {
  coordinatorUrl: string;
  token: string;
  workerId: string;
  lease: LeaseRef;
  epoch: number;
  step: number;
  planOffset: number;
  bytes: Uint8Array;
  signal?: AbortSignal;
  /** fetch options that trust a private CA (tls-trust.ts). */
  init?: RequestInit;
  /** Attempts for a lost connection, 5xx or `rate-limited` (default 5), backing off 1 s, 2 s, … */
  attempts?: number;
}

/** Refusals a later attempt can get past; every other one is final. */
const RETRYABLE = new Set(['unavailable', 'rate-limited']);

/**
 * PUTs a checkpoint beyond CHECKPOINT_SOCKET_MAX_BYTES to the coordinator (streamed by fetch from
 * the bytes as they are, no copy) and resolves once it is verified and stored. A refusal that
 * retrying cannot fix (the lease is gone, the bytes are bad or too large) rejects at once with its
 * code, as a socket acknowledgement would.
 */
export async function uploadCheckpoint(
  upload: CheckpointUpload,
): Promise<{ sha256: string; seconds: number }> {
  const client = createHttpClient({
    baseUrl: upload.coordinatorUrl,
    token: upload.token,
    ...(upload.init && { init: upload.init }),
  });
  const attempts = Math.max(1, upload.attempts ?? 5);
  for (let attempt = 1; ; attempt++) {
    upload.signal?.throwIfAborted();
    const started = performance.now();
    try {
      const stored = await client.putCheckpoint(
        {
          params: { memberId: upload.lease.memberId, epoch: upload.epoch },
          upload: {
            headers: {
              'x-chorus-worker-id': upload.workerId,
              'x-chorus-attempt': upload.lease.attempt,
              'x-chorus-step': upload.step,
              'x-chorus-plan-offset': upload.planOffset,
            },
            bytes: upload.bytes,
          },
        },
        upload.signal ? { signal: upload.signal } : {},
      );
      if (stored.bytes !== upload.bytes.byteLength) {
        throw new ChorusError(
          'internal',
          `the coordinator stored ${stored.bytes} bytes of a ${upload.bytes.byteLength}-byte checkpoint`,
        );
      }
      return { sha256: stored.sha256, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      upload.signal?.throwIfAborted();
      const code = error instanceof ChorusError ? error.code : 'unavailable';
      if (!RETRYABLE.has(code) || attempt >= attempts) throw error;
      await delay(1000 * 2 ** (attempt - 1), upload.signal);
    }
  }
}
