import Link from 'next/link';
import styles from './runs.module.css';

/** What to do when there is no run yet. */
export function RunsEmpty({ coordinatorUrl }: { coordinatorUrl: string }) {
  return (
    <section className={`notice ${styles.empty}`} data-testid="runs-empty" aria-labelledby="runs-empty-title">
      <h2 id="runs-empty-title">No runs yet</h2>
      <ol>
        <li>
          Start at least one worker (see <Link href="/workers">Workers</Link>), e.g.
          <pre>npx chorus worker --coordinator {coordinatorUrl} --token &lt;worker token&gt;</pre>
        </li>
        <li>
          Launch a run from the <Link href="/runs/new">New run</Link> page, or from a terminal:
          <pre>
            npx chorus run --coordinator {coordinatorUrl} --dataset digits --model mlp --members 3 --epochs 2
          </pre>
        </li>
      </ol>
      <p className="muted">
        The tokens are in the coordinator&apos;s data directory (tokens.json), never shown here.
      </p>
    </section>
  );
}
