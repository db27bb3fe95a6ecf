import { formatPercent, formatRate } from '../../lib/format';
import type { RunMemberView } from '../../server/run-data';
import styles from './run.module.css';

/** One row per member, updated live: progress is step / totalBatches (a step is one mini-batch). */
export function MembersTable({ members }: { members: readonly RunMemberView[] }) {
  return (
    <div className={styles.tableScroll} tabIndex={0} role="region" aria-label="Members table">
      <table aria-label="Members">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Status</th>
            <th scope="col">Worker</th>
            <th scope="col" className="num">
              Epoch
            </th>
            <th scope="col">Progress (step / batches)</th>
            <th scope="col" className="num">
              Samples/s
            </th>
            <th scope="col" className="num">
              Val accuracy
            </th>
            <th scope="col" className="num">
              Test accuracy
            </th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.index} data-testid={`member-row-${m.index}`}>
              <th scope="row">Member {m.index}</th>
              <td>
                <span className={`badge status-${m.status}`}>{m.status}</span>
                {m.error && (
                  <small className="error-text" style={{ display: 'block' }}>
                    {m.error}
                  </small>
                )}
              </td>
              <td className="mono" title={m.workerId ?? undefined}>
                {m.workerId ? m.workerId.slice(0, 8) : '—'}
              </td>
              <td className="num" data-testid={`member-epoch-${m.index}`}>
                {/* Stored 0-based; shown as people count epochs (1 = the first). */}
                {m.step > 0 ? m.epoch + 1 : '—'}
              </td>
              <td>
                <span className={styles.progress}>
                  <progress
                    max={1}
                    value={m.progress ?? 0}
                    aria-label={`Member ${m.index} progress`}
                    aria-valuetext={m.progress === null ? 'unknown' : formatPercent(m.progress, 0)}
                  />
                  <span>
                    <span data-testid={`member-step-${m.index}`}>{m.step}</span> / {m.totalBatches ?? '?'}
                  </span>
                </span>
              </td>
              <td className="num">{formatRate(m.samplesPerSecond)}</td>
              <td className="num">{formatPercent(m.valAccuracy)}</td>
              <td className="num">{formatPercent(m.testAccuracy)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
