export default function LoadingRun() {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading the run from the database…
    </p>
  );
}
