import { formatDate } from '../../lib/format';

/**
 * A UTC timestamp, short in the cell (to the minute; only the time when it falls on the same UTC
 * day as `sameDayAs`) with the full time in its tooltip.
 */
export function Time({
  value,
  sameDayAs,
}: {
  value: Date | string | null | undefined;
  sameDayAs?: Date | string | null | undefined;
}) {
  const full = formatDate(value);
  if (full === '—' || value === null || value === undefined) return <span className="muted">—</span>;
  const reference = formatDate(sameDayAs);
  const short =
    reference !== '—' && reference.slice(0, 10) === full.slice(0, 10)
      ? full.slice(11, 16)
      : full.slice(0, 16);
  return (
    <time dateTime={new Date(value).toISOString()} title={full}>
      {short}
    </time>
  );
}
