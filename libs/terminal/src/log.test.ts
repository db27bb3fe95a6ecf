import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine, resolveLogFormat } from './log';

/** A stream that keeps what is written. */
function sink(): { write(text: string): void; text: () => string } {
  let text = '';
  return { write: (t: string) => void (text += t), text: () => text };
}
const ESC = '\u001b[';

describe('resolveLogFormat', () => {
  it('is what was asked, else pretty on a terminal and JSON elsewhere', () => {
    expect(resolveLogFormat(undefined, { isTTY: true })).toBe('pretty');
    expect(resolveLogFormat(undefined, { isTTY: false })).toBe('json');
    expect(resolveLogFormat(undefined, {})).toBe('json');
    expect(resolveLogFormat('json', { isTTY: true })).toBe('json');
    expect(resolveLogFormat('pretty', { isTTY: false })).toBe('pretty');
  });
});

describe('createLogger', () => {
  it('json: one pino JSON object per line', () => {
    const out = sink();
    createLogger({ name: 'chorus-worker', level: 'info', format: 'json', stream: out }).info(
      { slots: 2 },
      'worker starting',
    );
    const record = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 30, name: 'chorus-worker', slots: 2, msg: 'worker starting' });
  });

  it('pretty: time, level, message and the fields, without pid, hostname or name', () => {
    const out = sink();
    const logger = createLogger({ name: 'chorus-worker', level: 'debug', format: 'pretty', stream: out });
    logger
      .child({ workerId: 'a3f0' })
      .info({ url: 'http://127.0.0.1:4000', slots: 2 }, 'connected to the coordinator');
    logger.trace('not at this level');
    expect(out.text()).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}connected to the coordinator url=http:\/\/127\.0\.0\.1:4000 slots=2\n$/,
    );
    expect(out.text()).not.toContain(ESC);
  });

  it('pretty with colours paints the level', () => {
    const out = sink();
    createLogger({ name: 'x', level: 'info', format: 'pretty', stream: out, color: true }).warn('careful');
    expect(out.text()).toContain(`${ESC}33mWARN `);
  });
});

describe('formatLogLine', () => {
  const time = new Date(2026, 11, 3, 9, 14, 3).getTime();

  it('cuts long values to one short line', () => {
    const line = formatLogLine(
      { level: 30, time, msg: 'tfjs backend ready', detail: 'x'.repeat(900), backend: 'wasm' },
      false,
    );
    expect(line).toBe(`09:14:03 INFO  tfjs backend ready detail=${'x'.repeat(59)}… backend=wasm`);
  });

  it('does not repeat a value the message already says', () => {
    const url = 'http://127.0.0.1:4000';
    expect(
      formatLogLine({ level: 30, time, msg: `coordinator listening on ${url}`, url, leaseMs: 30000 }, false),
    ).toBe(`09:14:03 INFO  coordinator listening on ${url} leaseMs=30000`);
  });

  it("shows an error's message, and its stack at error level", () => {
    const err = {
      type: 'Error',
      message: 'connection refused',
      stack: 'Error: connection refused\n    at connect (net.js:1:1)',
    };
    expect(formatLogLine({ level: 40, time, msg: 'database connection lost', err }, false)).toBe(
      '09:14:03 WARN  database connection lost connection refused',
    );
    expect(formatLogLine({ level: 50, time, msg: 'lease sweep failed', err, runId: 'r1' }, false)).toBe(
      '09:14:03 ERROR lease sweep failed connection refused runId=r1\n  at connect (net.js:1:1)',
    );
  });
});
