import Link from 'next/link';
import { formatPercent, formatRate } from '../../lib/format';
import { memberStatusLabel } from '../../lib/member-status';
import type { RunMemberView } from '../../server/run-data';
import styles from './run.module.css';

/**
 * One row per member, updated live: progress is step / totalBatches (a step is one mini-batch);
 * the status in words (lib/member-status.ts) and the worker by name, linked to its Workers row, with
 * the device it trains on (e.g. "GPU 1: NVIDIA H200 (vulkan; …)").
 */
export function MembersTable({
  members,
  runStatus,
  workerNames,
  workerDevices = {},
}: {
  members: readonly RunMemberView[];
  runStatus: string;
  workerNames: Readonly<Record<string, string>>;
  workerDevices?: Readonly<Record<string, string>>;
}) {
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
          {members.map((m) => {
            const label = memberStatusLabel(m, runStatus);
            const worker =
              m.workerId === null ? null : (
                <Link href={`/workers#worker-${encodeURIComponent(m.workerId)}`} title={m.workerId}>
                  {workerNames[m.workerId] ?? m.workerId.slice(0, 8)}
                </Link>
              );
            return (
              <tr key={m.index} data-testid={`member-row-${m.index}`}>
                <th scope="row">Member {m.index}</th>
                <td data-testid={`member-status-${m.index}`}>
                  <span className={`badge status-${label.tone}`}>{label.text}</span>
                  {label.onWorker && <> {worker}</>}
                  {m.error && (
                    <small className="error-text" style={{ display: 'block' }}>
                      {m.error}
                    </small>
                  )}
                </td>
                <td data-testid={`member-worker-${m.index}`}>
                  {worker ?? '—'}
                  {m.workerId !== null && workerDevices[m.workerId] !== undefined && (
                    <small className={styles.device} data-testid={`member-device-${m.index}`}>
                      {workerDevices[m.workerId]}
                    </small>
                  )}
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
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
