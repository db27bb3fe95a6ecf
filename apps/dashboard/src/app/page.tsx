import { LiveRefresh } from '../components/live-refresh';
import { RunsEmpty } from '../components/runs/runs-empty';
import { RunsTable } from '../components/runs/runs-table';
import styles from '../components/runs/runs.module.css';
import { dashboardServer, repositories } from '../server/repositories';
import { loadRunsList } from '@chorus/db/client';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Runs' };

const LIMIT = 100;

export default async function RunsPage() {
  const { publicCoordinatorUrl } = dashboardServer().env;
  const runs = await loadRunsList(repositories(), { limit: LIMIT });
  const active = runs.some((r) => r.status === 'pending' || r.status === 'running');
  return (
    <>
      <div className={styles.header}>
        <h1>Runs</h1>
        <LiveRefresh
          coordinatorUrl={publicCoordinatorUrl}
          topics={['runs']}
          // Evaluations arrive without a runs:changed: poll while a run is active.
          {...(active && { pollMs: 10_000 })}
        />
        {runs.length > 0 && (
          <span className="muted">
            {runs.length === LIMIT
              ? `the newest ${LIMIT}`
              : `${runs.length} run${runs.length === 1 ? '' : 's'}`}
          </span>
        )}
      </div>
      {runs.length === 0 ? (
        <RunsEmpty coordinatorUrl={publicCoordinatorUrl} />
      ) : (
        <RunsTable runs={runs} now={new Date().toISOString()} />
      )}
    </>
  );
}
