/**
 * Whether to write ANSI colours to a stream, the way most command-line tools decide
 * (https://no-color.org, https://force-color.org): `FORCE_COLOR` wins (`0` or `false` turns colours
 * off), then a non-empty `NO_COLOR` turns them off, else colours go to a terminal only (not to a
 * file or pipe, nor to `TERM=dumb`). The environment is passed in: apps read it in their env.ts.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: ColorEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** The environment variables colorEnabled reads. */
export interface ColorEnv {
  FORCE_COLOR?: string | undefined;
  NO_COLOR?: string | undefined;
  TERM?: string | undefined;
}

const CODES = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  cyan: [36, 39],
  gray: [90, 39],
  bold: [1, 22],
  dim: [2, 22],
} as const;
export type Style = keyof typeof CODES;

/** Paints text with ANSI styles, or leaves it as is when colours are off. */
export function painter(enabled: boolean): (style: Style, text: string) => string {
  return (style, text) => (enabled ? `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m` : text);
}
