/** Parsing one field of a CSV of one's own (csv-table.ts reads the rows with csv-parse). */

const INTEGER = /^[+-]?\d+$/;

/** The key of a label: integers canonical (so "7" and "07" are one class), anything else as written. */
export function labelKey(field: string): string {
  if (INTEGER.test(field)) {
    const n = Number(field);
    if (Number.isSafeInteger(n)) return String(n);
  }
  return field;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The fast path for a plain decimal `[-]digits[.digits]` of at most 15 significant digits: the
 * digits as an exact integer divided by an exact power of ten is correctly rounded, so it equals
 * Number(field). NaN for anything else (exponents, spaces, quotes, long numbers): the caller falls
 * back to Number().
 */
export function parseDecimal(text: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  const first = text.charCodeAt(i);
  if (first === 45 /* - */) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 /* . */ && decimals < 0) {
      decimals = 0;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  const value = decimals > 0 ? mantissa / (POW10[decimals] as number) : mantissa;
  return negative ? -value : value;
}

/** A field as a number: NaN for anything but a finite decimal number (empty, blank, "NaN", "abc"). */
export function numberOf(field: string): number {
  return field.trim() === '' ? NaN : Number(field);
}
