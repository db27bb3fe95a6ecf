/** Where a JSON text goes wrong: what V8 says, and the 1-based line and column. */
export interface JsonSyntaxProblem {
  reason: string;
  line: number;
  column: number;
}

/** Parses JSON text; a syntax error is returned with its line and column instead of thrown. */
export function parseJsonText(
  text: string,
): { ok: true; value: unknown } | ({ ok: false } & JsonSyntaxProblem) {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    const offset = errorOffset(text);
    const before = text.slice(0, offset).split('\n');
    return {
      ok: false,
      reason: message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, ''),
      line: before.length,
      column: (before.at(-1)?.length ?? 0) + 1,
    };
  }
}

/**
 * The offset of the first character that cannot continue valid JSON. V8 gives a position for
 * most errors but not all (`Unexpected token 'x', "…" is not valid JSON`), so it is found as the
 * shortest prefix that is no longer the start of some valid text: that property only grows with
 * the prefix, hence a binary search.
 */
function errorOffset(text: string): number {
  const at = positionOf(text);
  if (at !== undefined && at >= 0 && at < text.length) return at;
  if (at === text.length) return at;
  let viable = 0;
  let broken = text.length;
  while (broken - viable > 1) {
    const middle = (viable + broken) >> 1;
    const p = positionOf(text.slice(0, middle));
    if (p === undefined || p >= middle) viable = middle;
    else broken = middle;
  }
  return broken - 1;
}

/** undefined: valid; the prefix's length: it ended too soon; -1: an error at an unknown place; else V8's position. */
function positionOf(text: string): number | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    if (/Unexpected end of JSON input/.test(message)) return text.length;
    const position = /at position (\d+)/.exec(message);
    return position ? Number(position[1]) : -1;
  }
}
