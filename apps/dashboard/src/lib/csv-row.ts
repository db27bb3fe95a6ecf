/**
 * One pasted CSV row as raw feature values for the "try it" panel: numbers separated by commas,
 * semicolons, tabs or spaces, as many as the ensemble takes (`features`; null: not known here, the
 * coordinator checks). The label column of a dataset file is not part of it.
 */
export type CsvRowResult = { ok: true; values: number[] } | { ok: false; message: string };

export function parseCsvRow(text: string, features: number | null): CsvRowResult {
  const cells = text
    .trim()
    .split(/[\s,;]+/)
    .filter((c) => c !== '');
  if (cells.length === 0) return { ok: false, message: 'Paste one row of numbers, separated by commas.' };
  const values: number[] = [];
  for (const [i, cell] of cells.entries()) {
    const v = Number(cell);
    if (!Number.isFinite(v))
      return { ok: false, message: `Value ${i + 1} (“${cell.slice(0, 20)}”) is not a number.` };
    values.push(v);
  }
  if (features !== null && values.length !== features) {
    return {
      ok: false,
      message: `The row has ${values.length} values; this ensemble takes ${features} (the raw features, without the label).`,
    };
  }
  return { ok: true, values };
}
