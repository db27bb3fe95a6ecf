import { z } from 'zod';
import { ChorusError, ERROR_CODES, type ErrorCode } from './errors';

/**
 * Typed, validated socket.io messaging built from a catalog (one per direction, e.g.
 * worker-to-coordinator.ts): `{ event: { message, ack? } }`. `message` is the payload's schema;
 * `ack`, when the receiver answers, the schema of the `{ ok: true, … }` half of the answer (a
 * refusal is always `{ ok: false, code, message }`). The socket.io event maps are derived from the
 * catalogs (`SocketEvents`), and every message is checked against its schema on both ends:
 * `emitEvent` / `requestEvent` refuse to send an invalid payload, `handleEvent` refuses to apply
 * one and answers why, `requestEvent` checks the answer. Works with any socket.io socket,
 * namespace or room (server or client): this library depends on zod alone.
 */

export interface EventSchema {
  message: z.ZodType;
  ack?: z.ZodType<object>;
}
export type SocketCatalog = Record<string, EventSchema>;

/** The payload of an event without one (`socket.emit('work:available')`). */
export const NO_PAYLOAD = z.undefined();
/** The `{ ok: true }` half of an answer that carries nothing else. */
export const EMPTY_ACK = z.object({});

export const AckErrorSchema = z.object({ ok: z.literal(false), code: z.string(), message: z.string() });
export type AckError = z.infer<typeof AckErrorSchema>;
export type Ack<T = object> = ({ ok: true } & T) | AckError;

/** What a sender passes as the payload of `event`. */
export type MessageOf<C extends SocketCatalog, K extends keyof C> = z.input<C[K]['message']>;
/** The payload of `event` once parsed. */
export type ParsedMessageOf<C extends SocketCatalog, K extends keyof C> = z.output<C[K]['message']>;
/** An answer's `{ ok: true }` half (`z.object({})` infers `Record<string, never>`, which `ok` would not fit). */
type AnswerValue<T> = [keyof T] extends [never] ? object : string extends keyof T ? object : T;
/** The `{ ok: true }` half of the answer to `event`, as received. */
export type AckValueOf<C extends SocketCatalog, K extends keyof C> = C[K] extends {
  ack: infer A extends z.ZodType;
}
  ? AnswerValue<z.output<A>>
  : never;
/** What a handler of `event` returns: the answer's `{ ok: true }` half, or nothing when that is empty. */
export type HandlerResultOf<C extends SocketCatalog, K extends keyof C> = C[K] extends {
  ack: infer A extends z.ZodType;
}
  ? AnswerValue<z.input<A>> extends infer V
    ? object extends V
      ? object | void
      : V
    : never
  : void;
export type EventsWithAck<C extends SocketCatalog> = {
  [K in keyof C]: C[K] extends { ack: z.ZodType } ? K : never;
}[keyof C] &
  string;
export type EventsWithoutAck<C extends SocketCatalog> = Exclude<keyof C & string, EventsWithAck<C>>;
type PayloadArgs<C extends SocketCatalog, K extends keyof C> =
  undefined extends MessageOf<C, K> ? [] : [payload: MessageOf<C, K>];

/** The socket.io event map of a catalog (for `Server<…>`, `Namespace<…>`, `Socket<…>`). */
export type SocketEvents<C extends SocketCatalog> = {
  [K in keyof C]: C[K] extends { ack: infer A extends z.ZodType }
    ? (payload: MessageOf<C, K>, ack: (answer: Ack<AnswerValue<z.output<A>>>) => void) => void
    : (...payload: PayloadArgs<C, K>) => void;
};

/**
 * The socket.io methods the helpers call, typed loosely on purpose (`(...args: never) => unknown`
 * accepts any typed socket, namespace or room): the helpers' own signatures carry the types.
 */
type LooseMethod = (...args: never) => unknown;
/** A socket (either side) to listen on. */
export interface EventSource {
  on: LooseMethod;
}
/** A socket, namespace or room to send to. */
export interface EventTarget {
  emit: LooseMethod;
}
/** A socket that can wait for an answer. */
export interface RequestTarget {
  emitWithAck: LooseMethod;
  timeout(ms: number): { emitWithAck: LooseMethod };
}
type Emit = (event: string, ...args: unknown[]) => Promise<unknown>;

/** `path: message` lines, one per issue. */
export function describeIssues(error: z.ZodError, root = '(message)'): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : root}: ${issue.message}`)
    .join('\n');
}

/** The payload parsed with its schema, or the refusal `{ ok: false, code: 'invalid-input', message }` naming the fields. */
export function parseMessage<C extends SocketCatalog, K extends keyof C & string>(
  catalog: C,
  event: K,
  payload: unknown,
): { ok: true; data: ParsedMessageOf<C, K> } | AckError {
  const spec = catalog[event];
  if (spec === undefined) return { ok: false, code: 'invalid-input', message: `unknown event ${event}` };
  const parsed = spec.message.safeParse(payload);
  if (parsed.success) return { ok: true, data: parsed.data as ParsedMessageOf<C, K> };
  return {
    ok: false,
    code: 'invalid-input',
    message: `invalid ${event} message:\n${describeIssues(parsed.error)}`,
  };
}

/** Throws ChorusError('invalid-input') naming the fields when `payload` does not match `event`'s schema. */
function assertOutgoing(catalog: SocketCatalog, event: string, payload: unknown): void {
  const parsed = parseMessage(catalog, event, payload);
  if (!parsed.ok) throw new ChorusError('invalid-input', `not sent: ${parsed.message}`);
}

/** The default refusal for a thrown value: a ChorusError keeps its code and message. */
export function refusalOf(error: unknown): AckError {
  if (error instanceof ChorusError) return { ok: false, code: error.code, message: error.message };
  if (error instanceof z.ZodError)
    return { ok: false, code: 'invalid-input', message: `invalid input:\n${describeIssues(error)}` };
  return { ok: false, code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

export interface HandleOptions {
  /** Turns what a handler threw into the refusal (default `refusalOf`). */
  toAckError?: (error: unknown, event: string) => AckError;
  /** Told of every refused message (invalid, or its handler failed): to log it. */
  onRefused?: (event: string, refusal: AckError, payload: unknown) => void;
  /** Given the handling of every message, so a shutdown can wait for it. */
  track?: (work: Promise<void>) => void;
  /**
   * Called first with every message, before it is parsed: a ChorusError refuses it with its code
   * (the coordinator's per-worker budgets answer `rate-limited` this way).
   */
  admit?: (event: string, payload: unknown) => ChorusError | undefined;
  /**
   * Told of every message once it is answered: its payload as received, the refusal (undefined when
   * accepted) and the seconds from its arrival to its answer (operators' metrics).
   */
  onAnswered?: (event: string, payload: unknown, refusal: AckError | undefined, seconds: number) => void;
}

/**
 * Listens to `event` on `source`: the payload is parsed with the catalog's schema and only a valid
 * one reaches `handler` (nothing is applied from an invalid one). When the event is answered, the
 * handler's result is answered as `{ ok: true, ...result }` and a refusal (invalid payload, or what
 * the handler threw) as `{ ok: false, code, message }`.
 */
export function handleEvent<C extends SocketCatalog, K extends keyof C & string>(
  source: EventSource,
  catalog: C,
  event: K,
  handler: (payload: ParsedMessageOf<C, K>) => HandlerResultOf<C, K> | Promise<HandlerResultOf<C, K>>,
  options: HandleOptions = {},
): void {
  const answers = catalog[event]?.ack !== undefined;
  const toAckError = options.toAckError ?? refusalOf;
  const listener = (...args: unknown[]): void => {
    const last = args[args.length - 1];
    const ack = answers && typeof last === 'function' ? (last as (answer: unknown) => void) : () => {};
    // An answered event sent with only its callback carries an empty payload.
    const payload = answers && args.length === 1 && typeof last === 'function' ? {} : args[0];
    const arrived = performance.now();
    const answered = (refusal: AckError | undefined) =>
      options.onAnswered?.(event, payload, refusal, (performance.now() - arrived) / 1000);
    const refuse = (refusal: AckError) => {
      options.onRefused?.(event, refusal, payload);
      ack(refusal);
      answered(refusal);
    };
    const over = options.admit?.(event, payload);
    if (over !== undefined) return refuse({ ok: false, code: over.code, message: over.message });
    const work = (async () => {
      const parsed = parseMessage(catalog, event, payload);
      if (!parsed.ok) return refuse(parsed);
      try {
        const result = await handler(parsed.data);
        ack({ ok: true, ...(result ?? {}) });
        answered(undefined);
      } catch (error) {
        refuse(toAckError(error, event));
      }
    })();
    options.track?.(work);
  };
  (source.on as (event: string, listener: (...args: unknown[]) => void) => unknown)(event, listener);
}

/** Sends an event that is not answered, after checking its payload (throws ChorusError naming the fields). */
export function emitEvent<C extends SocketCatalog, K extends EventsWithoutAck<C>>(
  target: EventTarget,
  catalog: C,
  event: K,
  ...payload: PayloadArgs<C, K>
): void {
  assertOutgoing(catalog, event, payload[0]);
  (target.emit as (event: string, ...args: unknown[]) => unknown)(event, ...payload);
}

/**
 * Sends an answered event after checking its payload, and returns the answer checked against the
 * catalog: `{ ok: true, … }` or a refusal. An invalid payload throws ChorusError('invalid-input')
 * without sending; an answer that does not match throws ChorusError('internal') naming the fields;
 * a timeout (`timeoutMs`) or lost connection rejects with socket.io's error.
 */
export async function requestEvent<C extends SocketCatalog, K extends EventsWithAck<C>>(
  target: RequestTarget,
  catalog: C,
  event: K,
  payload: MessageOf<C, K>,
  options: { timeoutMs?: number } = {},
): Promise<Ack<AckValueOf<C, K>>> {
  assertOutgoing(catalog, event, payload);
  const sender = options.timeoutMs === undefined ? target : target.timeout(options.timeoutMs);
  return parseAnswer(catalog, event, await (sender.emitWithAck as Emit)(event, payload));
}

/** An answer to `event` checked against the catalog (see requestEvent). */
export function parseAnswer<C extends SocketCatalog, K extends EventsWithAck<C>>(
  catalog: C,
  event: K,
  answer: unknown,
): Ack<AckValueOf<C, K>> {
  const ok = (answer as { ok?: unknown } | null)?.ok;
  const schema =
    ok === true
      ? (catalog[event]?.ack ?? EMPTY_ACK)
      : AckErrorSchema.extend({ code: z.string().transform(asErrorCode) });
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new InvalidAnswerError(event, answer, parsed.error);
  return (ok === true ? { ...parsed.data, ok: true } : parsed.data) as Ack<AckValueOf<C, K>>;
}

/** An answer that does not match its event's schema: 'internal', naming the fields; `answer` as received. */
export class InvalidAnswerError extends ChorusError {
  constructor(
    readonly event: string,
    readonly answer: unknown,
    error: z.ZodError,
  ) {
    super(
      'internal',
      `the answer to ${event} does not match the protocol:\n${describeIssues(error, '(answer)')}`,
    );
    this.name = 'InvalidAnswerError';
  }
}

/** A code from the wire as an ErrorCode ('internal' when unknown). */
export function asErrorCode(code: string): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'internal';
}
