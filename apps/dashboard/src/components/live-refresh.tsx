'use client';

import { useCallback, useEffect, useRef } from 'react';
import { useRouter } from 'next/navigation';
import { useCoordinatorEvents, type ConnectionState } from '../lib/use-coordinator-events';

export type LiveTopic = 'runs' | 'workers';

const LABEL: Record<ConnectionState, string> = {
  connecting: 'connecting…',
  live: 'live',
  offline: 'offline',
};
const TITLE: Record<ConnectionState, string> = {
  connecting: 'Connecting to the coordinator for live updates.',
  live: 'Live: this page refreshes when the coordinator reports a change.',
  offline:
    'The coordinator cannot be reached: this page shows the database as of its last refresh and refreshes again once the coordinator is back.',
};

/**
 * Keeps a server-rendered list page fresh: on `runs:changed` / `workers:changed` (the topics
 * asked for) and after every (re)connection it re-renders the page's server components, which
 * read the database again. At most one refresh per `minIntervalMs` (the last change in a burst
 * is never lost: a trailing refresh follows); with `pollMs`, also on a timer.
 */
export function LiveRefresh({
  coordinatorUrl,
  topics,
  minIntervalMs = 1000,
  pollMs,
}: {
  coordinatorUrl: string;
  topics: readonly LiveTopic[];
  minIntervalMs?: number;
  /** Also refresh this often while the tab is visible (for numbers that change without a notification). */
  pollMs?: number;
}) {
  const router = useRouter();
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const refresh = useCallback(() => {
    if (timer.current) return; // a refresh is already scheduled and will see this change
    const wait = last.current + minIntervalMs - performance.now();
    const run = () => {
      timer.current = null;
      last.current = performance.now();
      router.refresh();
    };
    if (wait <= 0) run();
    else timer.current = setTimeout(run, wait);
  }, [router, minIntervalMs]);

  useEffect(() => {
    if (!pollMs) return;
    const poll = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, pollMs);
    return () => clearInterval(poll);
  }, [pollMs, refresh]);

  const state = useCoordinatorEvents(coordinatorUrl, null, {
    onResync: refresh,
    ...(topics.includes('runs') && { onRunsChanged: refresh }),
    ...(topics.includes('workers') && { onWorkersChanged: refresh }),
  });

  return (
    <span className={`badge status-${state}`} role="status" title={TITLE[state]} data-testid="live-state">
      {LABEL[state]}
    </span>
  );
}
