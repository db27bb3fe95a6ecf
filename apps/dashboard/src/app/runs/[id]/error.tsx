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
        Reading it from the database failed ({error.message || 'unknown error'}). Check that the database the
        coordinator uses is running and that the dashboard&apos;s <code>DATABASE_URL</code> points at it, then
        retry.
      </p>
      <p className="toolbar">
        <button onClick={reset}>Retry</button>
        <Link href="/">Back to the runs</Link>
      </p>
    </div>
  );
}
