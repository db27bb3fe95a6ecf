import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import {
  asErrorCode,
  ChorusError,
  requestEvent,
  WORKERS_NAMESPACE,
  WorkerToCoordinatorCatalog,
  type Ack,
  type AckValueOf,
  type CoordinatorToWorkerEvents,
  type MessageOf,
  type WorkerHandshake,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';

/**
 * The worker's socket.io connection to the coordinator's `/workers` namespace: the handshake,
 * reconnection, and acknowledged requests that are re-sent until the coordinator answers (every
 * message is idempotent on the coordinator's unique keys, so a duplicate is harmless).
 */

export type WorkerSocket = Socket<CoordinatorToWorkerEvents, WorkerToCoordinatorEvents>;
type Catalog = typeof WorkerToCoordinatorCatalog;
export type RequestEvent = keyof Catalog & string;
export type PayloadOf<E extends RequestEvent> = MessageOf<Catalog, E>;
/** The `{ ok: true, … }` half of an event's acknowledgement. */
export type AckValue<E extends RequestEvent> = { ok: true } & AckValueOf<Catalog, E>;

/** Handshake refusals that retrying cannot fix: the process should stop and say why. */
const FATAL_REFUSALS: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'invalid-input']);
/** Acknowledgement codes that mean "try again later". */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['unavailable']);

export interface ConnectionOptions {
  url: string;
  /** Called for every (re)connection attempt, so `activeMembers` is current. */
  handshake: () => WorkerHandshake;
  logger: Logger;
  /** Default time to wait for an acknowledgement before re-sending. */
  ackTimeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Re-send after a timeout or a lost connection (default true). */
  retry?: boolean;
}

export class Connection {
  readonly socket: WorkerSocket;
  /** Rejects with a ChorusError when the coordinator refuses the handshake for good. */
  readonly fatal: Promise<never>;
  private rejectFatal!: (error: ChorusError) => void;
  private closed = false;
  private refusals = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectWaiters = new Set<() => void>();
  private readonly ackTimeoutMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: ConnectionOptions) {
    this.logger = options.logger;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.fatal = new Promise<never>((_, reject) => {
      this.rejectFatal = reject;
    });
    this.fatal.catch(() => undefined); // observed by whoever awaits it; never unhandled
    this.socket = io(`${options.url}${WORKERS_NAMESPACE}`, {
      auth: (cb) => cb(options.handshake()),
      // socket.io's exponential backoff with ±50 % jitter, capped at 10 s, forever.
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 10_000,
      randomizationFactor: 0.5,
      transports: ['websocket'],
      autoConnect: false,
    });
    this.socket.on('connect', () => {
      this.logger.info({ url: options.url }, 'connected to the coordinator');
      this.refusals = 0;
      for (const wake of this.connectWaiters) wake();
      this.connectWaiters.clear();
    });
    this.socket.on('disconnect', (reason) => {
      if (this.closed) return;
      this.logger.warn({ reason }, 'lost the coordinator; reconnecting');
      // The server closed this socket on purpose: socket.io does not reconnect by itself then.
      if (reason === 'io server disconnect') this.scheduleRetry();
    });
    this.socket.on('connect_error', (error) => this.onConnectError(error));
  }

  /** Starts connecting; resolves once connected, rejects when the handshake is refused for good. */
  open(): Promise<void> {
    this.socket.connect();
    return Promise.race([this.waitConnected(), this.fatal]);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Resolves when connected (immediately if already); rejects with `signal.reason` on abort. */
  waitConnected(signal?: AbortSignal): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.connectWaiters.delete(wake);
        reject(signal?.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.connectWaiters.add(wake);
    });
  }

  /**
   * Emits `event` and returns the positive acknowledgement, both checked against the protocol's
   * catalog (an invalid payload is not sent: ChorusError 'invalid-input' naming the fields). A
   * refusal (`ok: false`) rejects with a ChorusError of its code; a timeout or a lost connection
   * re-sends once connected again, unless `retry` is false. Five timeouts in a row while
   * connected give up with 'unavailable'.
   */
  async request<E extends RequestEvent>(
    event: E,
    payload: PayloadOf<E>,
    options: RequestOptions = {},
  ): Promise<AckValue<E>> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? this.ackTimeoutMs;
    let timeouts = 0;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      if (this.closed) throw new ChorusError('unavailable', 'the worker is shutting down');
      await this.waitConnected(signal);
      let answer: Ack<AckValueOf<Catalog, E>>;
      try {
        answer = await abortable(
          requestEvent(this.socket, WorkerToCoordinatorCatalog, event, payload, { timeoutMs }),
          signal,
        );
      } catch (error) {
        signal?.throwIfAborted();
        // The payload or the answer does not match the protocol: re-sending cannot help.
        if (error instanceof ChorusError) throw error;
        if (options.retry === false) throw unavailable(event, error);
        if (this.socket.connected && ++timeouts >= 5) throw unavailable(event, error);
        this.logger.debug({ event, attempt, err: String(error) }, 'no acknowledgement; re-sending');
        continue;
      }
      if (answer.ok) return answer as AckValue<E>;
      if (RETRYABLE_CODES.has(answer.code) && options.retry !== false) {
        this.logger.debug({ event, attempt, refusal: answer }, 'coordinator busy; re-sending');
        await delay(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)), signal);
        continue;
      }
      throw new ChorusError(asErrorCode(answer.code), `${event} refused: ${answer.message}`);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }

  private onConnectError(error: Error & { data?: unknown }): void {
    if (this.closed) return;
    if (this.socket.active) {
      // Transport-level failure (coordinator down or restarting): socket.io keeps retrying.
      this.refusals++;
      const log =
        this.refusals === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
      log(
        { url: this.options.url, err: error.message, attempt: this.refusals },
        'cannot reach the coordinator; retrying',
      );
      return;
    }
    // The coordinator answered and refused the handshake.
    const code = refusalCode(error);
    const reason = `the coordinator at ${this.options.url} refused this worker: ${error.message}`;
    if (FATAL_REFUSALS.has(code)) {
      const hint =
        code === 'unauthorized'
          ? ' (check --token / CHORUS_WORKER_TOKEN against the coordinator’s worker token: ' +
            '`npx chorus tokens --data-dir DIR` on its machine prints it)'
          : code === 'invalid-input'
            ? ' (is the worker the same Chorus version as the coordinator?)'
            : '';
      this.logger.error({ code }, reason + hint);
      this.closed = true;
      this.socket.disconnect();
      this.rejectFatal(new ChorusError(asErrorCode(code), reason + hint));
      return;
    }
    this.logger.warn({ code }, `${reason}; retrying`);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.refusals++;
    const base = Math.min(10_000, 500 * 2 ** Math.min(this.refusals, 5));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        if (!this.closed && !this.socket.connected) this.socket.connect();
      },
      base * (0.5 + Math.random()),
    );
  }
}

/** The code of a handshake refusal: `error.data.code` when the coordinator sets it, else guessed. */
function refusalCode(error: Error & { data?: unknown }): string {
  const data = error.data as { code?: unknown } | undefined;
  if (typeof data?.code === 'string') return data.code;
  if (/unauthori[sz]ed|token/i.test(error.message)) return 'unauthorized';
  if (/forbidden/i.test(error.message)) return 'forbidden';
  if (/protocol|invalid|handshake/i.test(error.message)) return 'invalid-input';
  return 'unavailable';
}

function unavailable(event: string, error: unknown): ChorusError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ChorusError('unavailable', `${event}: the coordinator did not answer (${reason})`, {
    cause: error,
  });
}

/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts. */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** Waits `ms`, or rejects with `signal.reason` when it aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
