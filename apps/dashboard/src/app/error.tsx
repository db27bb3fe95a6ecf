'use client';

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="notice error" role="alert">
      <h1>Something went wrong</h1>
      <p>
        The dashboard could not read the database ({error.message || 'unknown error'}). Check that the coordinator and
        its database are running (the dashboard reads the <code>DATABASE_URL</code> the coordinator uses), then retry.
      </p>
      <button onClick={reset}>Retry</button>
    </div>
  );
}
