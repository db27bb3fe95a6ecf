import type { Logger } from 'pino';
import { LeaseRefSchema, type LeaseRef } from '@chorus/protocol';
import type { Connection } from './connection';

/**
 * Renews the leases of the members this worker trains: a `heartbeat` with all of them every
 * `intervalMs` (and right after every reconnection). The coordinator answers with the leases it
 * no longer honours, which the worker then stops training. Beats are never queued: one that finds
 * the coordinator unreachable is skipped, the next one carries the current leases anyway.
 * `renew()` beats at once and waits for the answer: a member calls it right before a step that
 * holds the thread for long (member-runner.ts), so its lease starts that step freshly renewed.
 */
export interface HeartbeatOptions {
  connection: Connection;
  intervalMs: number;
  leases: () => LeaseRef[];
  onRevoked: (lease: LeaseRef) => void;
  logger: Logger;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private intervalMs: number;
  /** The beat awaiting its answer, if any. */
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private readonly onConnect = () => void this.beat();

  constructor(private readonly options: HeartbeatOptions) {
    this.intervalMs = options.intervalMs;
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.options.connection.socket.on('connect', this.onConnect);
  }

  /**
   * Beats at least three times per lease: a coordinator configured with a short lease
   * (CHORUS_LEASE_MS) must not see a healthy worker's leases expire between two beats.
   */
  fitLease(leaseMs: number): void {
    const fitted = Math.max(250, Math.min(this.options.intervalMs, Math.floor(leaseMs / 3)));
    if (fitted === this.intervalMs) return;
    this.intervalMs = fitted;
    if (this.timer !== undefined && !this.stopped) {
      clearInterval(this.timer);
      this.timer = setInterval(() => void this.beat(), this.intervalMs);
    }
    this.options.logger.info({ intervalMs: fitted, leaseMs }, 'heartbeat interval fitted to the lease');
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.options.connection.socket.off('connect', this.onConnect);
  }

  /** Sends one heartbeat now (skipped when one is in flight or the socket is down). */
  async beat(): Promise<void> {
    if (this.inFlight === undefined) await this.send();
  }

  /**
   * Renews the leases now: a heartbeat, or the one in flight, and its answer (never throws; a beat
   * the coordinator does not answer is only logged, as any other).
   */
  renew(): Promise<void> {
    return this.inFlight ?? this.send();
  }

  private send(): Promise<void> {
    const { connection } = this.options;
    if (this.stopped || !connection.connected) return Promise.resolve();
    const sent = this.exchange().finally(() => {
      if (this.inFlight === sent) this.inFlight = undefined;
    });
    this.inFlight = sent;
    return sent;
  }

  private async exchange(): Promise<void> {
    const { connection, logger } = this.options;
    try {
      const members = this.options.leases();
      const answer = await connection.request(
        'heartbeat',
        { members },
        { retry: false, timeoutMs: Math.max(2_000, this.intervalMs * 2) },
      );
      const revoked = Array.isArray(answer.revoked) ? answer.revoked : [];
      for (const raw of revoked) {
        const lease = LeaseRefSchema.safeParse(raw);
        if (lease.success) this.options.onRevoked(lease.data);
        else logger.warn({ raw }, 'ignoring a malformed revoked lease in a heartbeat answer');
      }
    } catch (error) {
      logger.debug({ err: String(error) }, 'heartbeat not acknowledged');
    }
  }
}
