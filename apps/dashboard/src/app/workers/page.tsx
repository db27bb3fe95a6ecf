import { AdminTokenField } from '../../components/admin-token';
import { LiveRefresh } from '../../components/live-refresh';
import { WorkersEmpty } from '../../components/workers/workers-empty';
import { WorkersTable } from '../../components/workers/workers-table';
import styles from '../../components/workers/workers.module.css';
import { dashboardServer, repositories } from '../../server/repositories';
import { loadWorkers } from '../../server/workers';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Workers' };

export default async function WorkersPage() {
  const { publicCoordinatorUrl } = dashboardServer().env;
  const workers = await loadWorkers(repositories());
  const online = workers.filter((w) => w.status === 'online');
  const slots = online.reduce((n, w) => n + w.slots, 0);
  const busy = online.reduce((n, w) => n + w.members.length, 0);
  return (
    <>
      <div className={styles.header}>
        <h1>Workers</h1>
        <LiveRefresh coordinatorUrl={publicCoordinatorUrl} topics={['workers', 'runs']} pollMs={5_000} />
        {workers.length > 0 && (
          <span className="muted" data-testid="workers-summary">
            {online.length} of {workers.length} online · {busy} of {slots} slots busy
          </span>
        )}
      </div>
      {workers.length === 0 ? (
        <WorkersEmpty coordinatorUrl={publicCoordinatorUrl} />
      ) : (
        <>
          <AdminTokenField />
          <WorkersTable workers={workers} now={new Date().toISOString()} />
        </>
      )}
    </>
  );
}
