import type { z } from 'zod';
import { ChorusError, type MetricPointSchema } from '@chorus/protocol';

export type MetricPoint = z.infer<typeof MetricPointSchema>;

/** The most points one `metrics` message may carry (MetricsMessageSchema). */
const MAX_POINTS = 1000;
/** Points of one member kept while the coordinator is away (default). */
export const MAX_BUFFERED_POINTS = 10_000;

/**
 * Batches a member's metric points and sends them at most every `intervalMs`, one message at a
 * time: points that arrive while a message is in flight (or the coordinator is away) wait for the
 * next one. A message that could not be delivered ('unavailable') is kept and sent again; one the
 * coordinator refused is not. At most `maxBuffered` points wait (besides the message in flight):
 * beyond, the oldest are dropped and counted (`onDropped`: once when dropping starts, once with the
 * total when a message gets through again). `flush` sends everything pending and waits for it.
 */
export class MetricsSender {
  private pending: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | null = null;
  private lastSent = 0;
  private stopped = false;
  /** Points dropped since a message last got through. */
  private dropped = 0;
  private failures = 0;

  constructor(
    private readonly send: (points: MetricPoint[]) => Promise<void>,
    private readonly intervalMs = 500,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly options: {
      maxBuffered?: number;
      onDropped?: (dropped: number, state: 'dropping' | 'delivered again') => void;
    } = {},
  ) {}

  push(point: MetricPoint): void {
    if (this.stopped) return;
    // The schema takes finite numbers only; a report window without samples has none to give.
    if (!Number.isFinite(point.loss) || !Number.isFinite(point.accuracy)) return;
    this.pending.push(point);
    this.bound();
    this.schedule();
  }

  /** Drops the oldest pending points beyond the bound. */
  private bound(): void {
    const excess = this.pending.length - (this.options.maxBuffered ?? MAX_BUFFERED_POINTS);
    if (excess <= 0) return;
    const n = Math.min(excess, this.pending.length);
    this.pending.splice(0, n);
    if (this.dropped === 0) this.options.onDropped?.(n, 'dropping');
    this.dropped += n;
  }

  /**
   * Sends all pending points now and resolves when the coordinator has acknowledged them, or when
   * a message failed (what was not delivered stays pending for later).
   */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const failures = this.failures;
    while ((this.sending !== null || this.pending.length > 0) && !this.stopped) {
      if (this.failures !== failures && this.sending === null) return this.schedule();
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
      .then(() => {
        if (this.dropped > 0) this.options.onDropped?.(this.dropped, 'delivered again');
        this.dropped = 0;
      })
      .catch((error: unknown) => {
        if (this.stopped) return;
        this.failures++;
        this.onError(error);
        // Not delivered, not refused: keep the points for the next message (oldest first).
        if (error instanceof ChorusError && error.code === 'unavailable') this.pending.unshift(...points);
      })
      .finally(() => {
        this.sending = null;
        this.bound();
        if (this.pending.length > 0 && !this.stopped) this.schedule();
      });
  }
}
