import Link from 'next/link';

export default function RunNotFound() {
  return (
    <div className="notice">
      <h1>No such run</h1>
      <p>
        This database has no run with that id. It may have been launched on another coordinator (each has its
        own database). Pick one from the <Link href="/">list of runs</Link>, or{' '}
        <Link href="/runs/new">launch a new one</Link>.
      </p>
    </div>
  );
}
