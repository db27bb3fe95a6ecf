'use client';

import { useEffect, useState } from 'react';
import { formatAge } from './format-age';

/**
 * Time since a worker's last heartbeat, ticking in the browser between page refreshes (heartbeats
 * do not notify the dashboard). The first render uses the server's clock, so hydration matches.
 */
export function HeartbeatAge({ since, serverNow }: { since: Date | string; serverNow: string }) {
  const [now, setNow] = useState<number | string>(serverNow);
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <time dateTime={new Date(since).toISOString()} title={new Date(since).toISOString()}>
      {formatAge(since, now)}
    </time>
  );
}
