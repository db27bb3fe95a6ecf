import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import {
  asErrorCode,
  ChorusError,
  MAX_SOCKET_MESSAGE_BYTES,
  requestEvent,
  readConnectRefusal,
  WORKER_IDENTITY_REFUSED,
  type ConnectRefusal,
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
 * message is idempotent on the coordinator's unique keys, so a duplicate is harmless). What is
 * never retried, and how reconnects back off: README.md ("When the coordinator is away or refuses").
 */

export type WorkerSocket = Socket<CoordinatorToWorkerEvents, WorkerToCoordinatorEvents>;
type Catalog = typeof WorkerToCoordinatorCatalog;
export type RequestEvent = keyof Catalog & string;
export type PayloadOf<E extends RequestEvent> = MessageOf<Catalog, E>;
/** The `{ ok: true, … }` half of an event's acknowledgement. */
export type AckValue<E extends RequestEvent> = { ok: true } & AckValueOf<Catalog, E>;

/** Handshake refusals that retrying cannot fix: the process should stop and say why. */
const FATAL_REFUSALS: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'invalid-input']);
/** Acknowledgement codes that mean "try again later"; every other refusal is final. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['unavailable', 'rate-limited']);
/** A message whose sending lost the connection this many times in a row is not sent again. */
const MAX_DROPS_PER_MESSAGE = 3;
/** A connection that stayed up this long ends the backoff: the next loss retries quickly again. */
const STABLE_CONNECTION_MS = 10_000;

export interface ConnectionOptions {
  url: string;
  /** Called for every (re)connection attempt, so `activeMembers` is current. */
  handshake: () => WorkerHandshake;
  logger: Logger;
  /** Default time to wait for an acknowledgement before re-sending. */
  ackTimeoutMs?: number;
  /** Reconnect backoff: the first delay and the cap (defaults 500 ms and 30 s), with jitter. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** The largest message sent (default MAX_SOCKET_MESSAGE_BYTES, the coordinator's limit). */
  maxMessageBytes?: number;
  /** PEM of a private CA that signed the coordinator's certificate (wss://). */
  ca?: string;
  /**
   * The coordinator refused the handshake's worker id and secret (WORKER_IDENTITY_REFUSED): called
   * before reconnecting, so the next handshake carries a new id. Without it that refusal is final.
   */
  onIdentityRefused?: () => void;
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
  /** Reconnect attempts since the connection was last stable. */
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  /** Connections lost so far: a request compares it before and after its message. */
  private drops = 0;
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
      // Reconnection is ours (scheduleRetry): socket.io's resets its backoff on every successful
      // connect, so a coordinator that drops the link right after each connect made it a tight loop.
      reconnection: false,
      transports: ['websocket'],
      autoConnect: false,
      ...(options.ca !== undefined && { ca: options.ca }),
    });
    this.socket.on('connect', () => {
      this.logger.info({ url: options.url }, 'connected to the coordinator');
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => (this.attempts = 0), STABLE_CONNECTION_MS);
      for (const wake of this.connectWaiters) wake();
      this.connectWaiters.clear();
    });
    this.socket.on('disconnect', (reason) => {
      this.drops++;
      clearTimeout(this.stableTimer);
      if (this.closed) return;
      this.scheduleRetry('lost the coordinator', { reason });
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
   * connected give up with 'unavailable'; a message larger than the coordinator takes is not sent
   * ('too-large'), nor one whose sending lost the connection three times in a row.
   */
  async request<E extends RequestEvent>(
    event: E,
    payload: PayloadOf<E>,
    options: RequestOptions = {},
  ): Promise<AckValue<E>> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? this.ackTimeoutMs;
    const maxBytes = this.options.maxMessageBytes ?? MAX_SOCKET_MESSAGE_BYTES;
    const bytes = messageBytes(payload);
    if (bytes > maxBytes) {
      throw new ChorusError(
        'too-large',
        `${event} not sent: its ${mebibytes(bytes)} exceed the ${mebibytes(maxBytes)} the coordinator takes in one message`,
      );
    }
    let timeouts = 0;
    let drops = 0;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      if (this.closed) throw new ChorusError('unavailable', 'the worker is shutting down');
      await this.waitConnected(signal);
      const dropsBefore = this.drops;
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
        if (this.drops > dropsBefore && ++drops >= MAX_DROPS_PER_MESSAGE) {
          // Most likely the message itself: the coordinator closes the link on what it cannot take.
          throw new ChorusError(
            'too-large',
            `${event} not sent again: the connection was lost each of the ${drops} times it was sent ` +
              `(${mebibytes(bytes)}; the coordinator closes the link on a message it cannot take)`,
            { cause: error },
          );
        }
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
    clearTimeout(this.stableTimer);
    this.socket.disconnect();
  }

  private onConnectError(error: Error & { data?: unknown }): void {
    if (this.closed) return;
    if (this.socket.active) {
      // Transport-level failure (coordinator down or restarting).
      this.scheduleRetry('cannot reach the coordinator', { url: this.options.url, err: error.message });
      return;
    }
    // The coordinator answered and refused the handshake.
    let refusal: ConnectRefusal | null;
    let message = error.message;
    try {
      refusal = readConnectRefusal(error.data);
    } catch (malformed) {
      // A refusal this worker cannot read: another Chorus version (invalid-input, fatal).
      refusal = { code: 'invalid-input' };
      message = `${message} (${(malformed as Error).message})`;
    }
    const code = refusal?.code ?? guessRefusalCode(error.message);
    const reason = `the coordinator at ${this.options.url} refused this worker: ${message}`;
    if (refusal?.reason === WORKER_IDENTITY_REFUSED && this.options.onIdentityRefused) {
      this.logger.warn({ code }, `${reason}; registering under a new worker id`);
      this.options.onIdentityRefused();
      this.scheduleRetry('registering under a new worker id', { code });
      return;
    }
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
    this.scheduleRetry(reason, { code });
  }

  /**
   * One reconnect attempt after an exponential, jittered delay (half fixed, half random, so
   * workers that lost the same coordinator do not come back at the same instant), logged once
   * with that delay.
   */
  private scheduleRetry(what: string, fields: Record<string, unknown>): void {
    if (this.retryTimer !== undefined) return; // one attempt pending already
    this.attempts++;
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempts - 1, 30));
    const delayMs = Math.round(base / 2 + (Math.random() * base) / 2);
    this.logger.warn(
      { ...fields, attempt: this.attempts, nextDelayMs: delayMs },
      `${what}; reconnecting in ${(delayMs / 1000).toFixed(1)} s`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delayMs);
  }
}

/**
 * About the bytes a message takes on the wire: its binary attachments plus the JSON of the rest
 * (socket.io sends each attachment as a frame of its own; the sum bounds every frame).
 */
export function messageBytes(payload: unknown): number {
  let binary = 0;
  // `holder[key]` is the value before toJSON (a Buffer would otherwise arrive as an array of numbers).
  const json = JSON.stringify(payload, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (raw instanceof Uint8Array) {
      binary += raw.byteLength;
      return 0;
    }
    return value;
  });
  return binary + Buffer.byteLength(json ?? '');
}

function mebibytes(bytes: number): string {
  return bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * The code of a handshake refusal without `data` (socket.io's own, or a coordinator before
 * ConnectRefusalSchema), guessed from its message.
 */
function guessRefusalCode(message: string): string {
  if (/unauthori[sz]ed|token/i.test(message)) return 'unauthorized';
  if (/forbidden/i.test(message)) return 'forbidden';
  if (/protocol|invalid|handshake/i.test(message)) return 'invalid-input';
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
