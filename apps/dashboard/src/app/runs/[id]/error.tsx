'use client';

import Link from 'next/link';

export default function RunError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="notice error" role="alert">
      <h1>This run could not be shown</h1>
      <p>
        Showing it failed: {error.message || 'unknown error'}. If the database cannot be reached, check that
        the Postgres the coordinator uses is running and that the dashboard&apos;s <code>DATABASE_URL</code>{' '}
        points at it; after a dashboard upgrade, reload the page. Then retry.
      </p>
      <p className="toolbar">
        <button onClick={reset}>Retry</button>
        <Link href="/">Back to the runs</Link>
      </p>
    </div>
  );
}
