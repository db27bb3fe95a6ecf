import { formatDate } from '../../lib/format';

/** A UTC timestamp, short in the cell (minutes) with the full time in its tooltip. */
export function Time({ value }: { value: Date | string | null | undefined }) {
  const full = formatDate(value);
  if (full === '—' || value === null || value === undefined) return <span className="muted">—</span>;
  const iso = new Date(value).toISOString();
  return (
    <time dateTime={iso} title={full}>
      {full.slice(0, 16)}
    </time>
  );
}
