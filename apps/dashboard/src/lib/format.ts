/** Display helpers shared by the pages (pure; unit-tested). */

export function formatPercent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${(value * 100).toFixed(digits)}%`;
}

export function formatNumber(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

/** Signed percentage points, e.g. +1.25 pp. */
export function formatGain(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const pp = value * 100;
  return `${pp >= 0 ? '+' : '−'}${Math.abs(pp).toFixed(digits)} pp`;
}

/**
 * One numbering for rounds and epochs: both are stored 0-based (evaluation round r follows each
 * member's epoch r + 1), and both are shown 1-based as people count, as "epoch N".
 */
export const epochOfRound = (round: number): number => round + 1;
export const formatEpoch = (round: number): string => `epoch ${epochOfRound(round)}`;

/**
 * The fewest decimals (from `min` up to `max`) at which values that differ (beyond 1e-9) are
 * written differently: a heatmap whose cells all lie near 0.03 gets the digits that tell them apart.
 */
export function distinguishingDecimals(values: readonly number[], min = 2, max = 5): number {
  const finite = values.filter(Number.isFinite);
  const distinct = new Set(finite.map((v) => Math.round(v * 1e9))).size;
  for (let digits = min; digits < max; digits++) {
    if (new Set(finite.map((v) => v.toFixed(digits))).size === distinct) return digits;
  }
  return max;
}

export function formatDate(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return '—';
  return date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function formatDuration(
  start: Date | string | null | undefined,
  end: Date | string | null | undefined,
): string {
  if (!start) return '—';
  const from = new Date(start).getTime();
  const to = end ? new Date(end).getTime() : Date.now();
  const seconds = Math.max(0, Math.round((to - from) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatRate(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${Math.round(value).toLocaleString('en-US')}/s`;
}
