import Link from 'next/link';
import type { WorkerListItem } from '../../server/workers';
import { formatPercent, formatRate } from '../../lib/format';
import { DrainWorker } from './drain-worker';
import { HeartbeatAge } from './heartbeat-age';
import styles from './workers.module.css';
import list from '../list-table.module.css';

/** Every worker: online or not, what it runs on, and the members it trains now. */
export function WorkersTable({ workers, now }: { workers: readonly WorkerListItem[]; now: string }) {
  return (
    <div className={list.scroll} tabIndex={0} role="region" aria-label="Workers table">
      <table data-testid="workers-table" className={list.table}>
        <caption className={list.caption}>
          Workers, online first. Samples/s: the sum over the members a worker trains now.
        </caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Name</th>
            <th scope="col">Host</th>
            <th scope="col">Backend</th>
            <th scope="col">Device</th>
            <th scope="col" className="num">
              Slots used
            </th>
            <th scope="col">Current members</th>
            <th scope="col" className="num">
              Samples/s
            </th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((w) => (
            <tr key={w.id} id={`worker-${w.id}`} data-testid={`worker-row-${w.id}`}>
              <td data-testid={`worker-status-${w.id}`}>
                <span className={`badge status-${w.status}`}>{w.status}</span>
                <br />
                <small className="muted">
                  last heartbeat <HeartbeatAge since={w.lastSeenAt} serverNow={now} />
                </small>
              </td>
              <td className={styles.name}>
                {w.name}
                <br />
                <small className="muted mono">{w.id}</small>
              </td>
              <td>{w.host}</td>
              <td>
                <span className="mono">{w.backend}</span>
              </td>
              <td className={styles.device}>{w.device}</td>
              <td className="num">
                {w.members.length} / {w.slots}
              </td>
              <td>
                {w.members.length === 0 ? (
                  <span className="muted">{w.status === 'online' ? 'idle' : '—'}</span>
                ) : (
                  <ul className={styles.members}>
                    {w.members.map((m) => (
                      <li key={m.memberId}>
                        <Link href={`/runs/${encodeURIComponent(m.runId)}`}>{m.runName}</Link> · member{' '}
                        {m.index}{' '}
                        <small className="muted">
                          ({m.status}
                          {m.progress !== null && `, ${formatPercent(m.progress, 0)}`})
                        </small>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td className="num">{formatRate(w.samplesPerSecond)}</td>
              <td>{w.status === 'online' && <DrainWorker workerId={w.id} name={w.name} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
