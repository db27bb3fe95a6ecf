import { pino, type Logger } from 'pino';
import { painter, type Style } from './color';

/** How the coordinator and the worker write their logs: pino's JSON lines, or short human lines. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The format asked for (`--log-format`, `LOG_FORMAT`), else human lines on a terminal and JSON on a file or pipe. */
export function resolveLogFormat(asked: LogFormat | undefined, stream: { isTTY?: boolean }): LogFormat {
  return asked ?? (stream.isTTY === true ? 'pretty' : 'json');
}

export interface LoggerOptions {
  name: string;
  level: LogLevel;
  format: LogFormat;
  /** Where the lines go (default stdout). */
  stream?: { write(text: string): unknown };
  /** ANSI colours in pretty lines (see colorEnabled). */
  color?: boolean;
}

/** A pino logger writing JSON lines, or pretty lines through formatLogLine. */
export function createLogger(options: LoggerOptions): Logger {
  if (options.format === 'json') {
    // Without a stream, pino's own synchronous stdout destination, as before pretty lines existed.
    const base = { name: options.name, level: options.level };
    return options.stream === undefined ? pino(base) : pino(base, options.stream);
  }
  const stream = options.stream ?? process.stdout;
  const color = options.color ?? false;
  return pino(
    { name: options.name, level: options.level },
    {
      write(line: string) {
        stream.write(`${formatLogLine(JSON.parse(line) as Record<string, unknown>, color)}\n`);
      },
    },
  );
}

const LEVELS: Record<number, [string, Style]> = {
  10: ['TRACE', 'gray'],
  20: ['DEBUG', 'gray'],
  30: ['INFO ', 'green'],
  40: ['WARN ', 'yellow'],
  50: ['ERROR', 'red'],
  60: ['FATAL', 'red'],
};
/** Fields of every line that a person reading a terminal does not need: who wrote it is known. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'workerId', 'err']);
const MAX_VALUE = 60;

/**
 * One pino record as a human line: `09:14:03 INFO  member done  samples=6000 seconds=4.2`. Long
 * values are cut (the JSON format keeps them whole); an error's message follows, and its stack at
 * error level and above.
 */
export function formatLogLine(record: Record<string, unknown>, color: boolean): string {
  const paint = painter(color);
  const time =
    typeof record.time === 'number' ? new Date(record.time).toTimeString().slice(0, 8) : '--:--:--';
  const [label, style] = LEVELS[Number(record.level)] ?? [String(record.level), 'cyan'];
  const message = String(record.msg ?? '');
  const fields = Object.entries(record)
    // A value the message already says (`coordinator listening on <url>`) is not repeated.
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined && !saidIn(message, value))
    .map(([key, value]) => `${key}=${shorten(typeof value === 'string' ? value : JSON.stringify(value))}`);
  const err = record.err as { message?: unknown; stack?: unknown } | string | undefined;
  const errText = typeof err === 'string' ? err : typeof err?.message === 'string' ? err.message : undefined;
  const head = [
    paint('dim', time),
    paint(style, label),
    message,
    ...(errText !== undefined ? [paint('red', errText)] : []),
    ...(fields.length > 0 ? [paint('dim', fields.join(' '))] : []),
  ].join(' ');
  const stack =
    Number(record.level) >= 50 && typeof err === 'object' && typeof err.stack === 'string'
      ? err.stack
      : undefined;
  // The stack's first line repeats the message.
  return stack === undefined
    ? head
    : `${head}\n${paint('dim', indent(stack.split('\n').slice(1).join('\n')))}`;
}

function saidIn(message: string, value: unknown): boolean {
  return (
    (typeof value === 'string' || typeof value === 'number') &&
    String(value).length > 3 &&
    message.includes(String(value))
  );
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_VALUE ? `${oneLine.slice(0, MAX_VALUE - 1)}…` : oneLine;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line.trim()}`)
    .join('\n');
}
