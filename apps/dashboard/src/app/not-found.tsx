import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="notice">
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. The run may have been launched on another coordinator&apos;s database. Go back
        to the <Link href="/">list of runs</Link>.
      </p>
    </div>
  );
}
