import type { Logger } from 'pino';
import { LeaseRefSchema, type LeaseRef } from '@chorus/protocol';
import type { Connection } from './connection';

/**
 * Renews the leases of the members this worker trains: a `heartbeat` with all of them every
 * `intervalMs` (and right after every reconnection). The coordinator answers with the leases it
 * no longer honours, which the worker then stops training. Beats are never queued: one that finds
 * the coordinator unreachable is skipped, the next one carries the current leases anyway.
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
  private inFlight = false;
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
    const { connection, logger } = this.options;
    if (this.stopped || this.inFlight || !connection.connected) return;
    this.inFlight = true;
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
    } finally {
      this.inFlight = false;
    }
  }
}
