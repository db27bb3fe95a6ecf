/** "12 s ago", "3 min ago", "2 h ago", "4 d ago" (whole units, never negative). */
export function formatAge(since: Date | string, now: Date | string | number): string {
  const seconds = Math.max(0, Math.floor((new Date(now).getTime() - new Date(since).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}
