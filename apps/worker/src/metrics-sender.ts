import type { z } from 'zod';
import type { MetricPointSchema } from '@chorus/protocol';

export type MetricPoint = z.infer<typeof MetricPointSchema>;

/** The most points one `metrics` message may carry (MetricsMessageSchema). */
const MAX_POINTS = 1000;

/**
 * Batches a member's metric points and sends them at most every `intervalMs`, one message at a
 * time: points that arrive while a message is in flight (or the coordinator is unreachable) wait
 * for the next one. `flush` sends everything pending and waits for it.
 */
export class MetricsSender {
  private pending: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | null = null;
  private lastSent = 0;
  private stopped = false;

  constructor(
    private readonly send: (points: MetricPoint[]) => Promise<void>,
    private readonly intervalMs = 500,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  push(point: MetricPoint): void {
    if (this.stopped) return;
    // The schema takes finite numbers only; a report window without samples has none to give.
    if (!Number.isFinite(point.loss) || !Number.isFinite(point.accuracy)) return;
    this.pending.push(point);
    this.schedule();
  }

  /** Sends all pending points now and resolves when the coordinator has acknowledged them. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.sending !== null || this.pending.length > 0) {
      if (this.sending !== null) await this.sending;
      else this.sendPending();
    }
  }

  /** Drops pending points and sends nothing more. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.pending = [];
  }

  private schedule(): void {
    if (this.timer !== undefined || this.sending !== null) return;
    const wait = Math.max(0, this.lastSent + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendPending();
    }, wait);
  }

  private sendPending(): void {
    if (this.stopped || this.sending !== null || this.pending.length === 0) return;
    const points = this.pending.splice(0, MAX_POINTS);
    this.lastSent = Date.now();
    this.sending = this.send(points)
      .catch((error: unknown) => {
        if (!this.stopped) this.onError(error);
      })
      .finally(() => {
        this.sending = null;
        if (this.pending.length > 0 && !this.stopped) this.schedule();
      });
  }
}
