'use client';

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { fetchDashboardRoute, type DashboardAnswer, type RunNotification } from '@chorus/protocol';
import { Chart } from '../chart';
import { formatDate, formatDuration } from '../../lib/format';
import { appendMetrics, applyMetricsToMembers } from '../../lib/run-curves';
import { useCoordinatorEvents } from '../../lib/use-coordinator-events';
import type { RunPageData, RunState } from '../../server/run-data';
import { classViewsOf } from '../../lib/run-classes';
import { CancelRun } from './cancel-run';
import { ClassesPanel } from './classes-panel';
import { memberCurvesOption } from './chart-options';
import { AccuracyDiversity, DiversityPanel } from './diversity-panel';
import { FinalTable } from './final-table';
import { LiveAccuracies } from './live-accuracies';
import { MembersTable } from './members-table';
import { ModelFileSummary } from './model-file-summary';
import { StrategyAccuracy } from './strategy-accuracy';
import { ValidationAccuracy } from './validation-accuracy';
import { TryItPanel } from './try-it-panel';
import { WhatIfPanel } from './what-if-panel';
import styles from './run.module.css';

/**
 * The run page, live: rendered first from the server's database read, then kept current from the
 * coordinator's notifications — metrics are appended in place (one point per member and flush);
 * member and evaluation notifications refetch the run's state (app/api/runs/[id]/state,
 * coalesced); a status change and every (re)join refetch everything with the stored curves
 * (app/api/runs/[id]), since notifications may have been missed meanwhile. Both answers are
 * decoded with their libs/protocol schemas (DASHBOARD_ROUTES): one that does not match is shown as
 * a refresh error naming the route and the field, and the page keeps what it had.
 */
export function RunView({ initial, coordinatorUrl }: { initial: RunPageData; coordinatorUrl: string }) {
  const runId = initial.run.id;
  const [state, setState] = useState<RunState>(initial);
  const [curves, setCurves] = useState(initial.curves);
  const [refreshError, setRefreshError] = useState<string | null>(null);
  const { run } = state;

  const fetchAnswer = useCallback(
    async <N extends 'getRunState' | 'getRunPage'>(name: N): Promise<DashboardAnswer<N> | null> => {
      try {
        const answer = await fetchDashboardRoute(name, { params: { id: runId } });
        setRefreshError(null);
        return answer;
      } catch (e) {
        setRefreshError(
          `Could not refresh from the database (${(e as Error).message}); the page shows what it had. Reload to retry.`,
        );
        return null;
      }
    },
    [runId],
  );

  // One refetch at a time; notifications arriving meanwhile ask for one more afterwards.
  const pending = useRef({ running: false, again: false });
  const refreshState = useCallback(async () => {
    if (pending.current.running) {
      pending.current.again = true;
      return;
    }
    pending.current.running = true;
    try {
      do {
        pending.current.again = false;
        const next = await fetchAnswer('getRunState');
        if (next) setState(next);
      } while (pending.current.again);
    } finally {
      pending.current.running = false;
    }
  }, [fetchAnswer]);

  const resync = useCallback(async () => {
    const next = await fetchAnswer('getRunPage');
    if (!next) return;
    const { curves: fresh, ...rest } = next;
    setState(rest);
    setCurves(fresh);
  }, [fetchAnswer]);

  const onRun = useCallback(
    (n: RunNotification) => {
      if (n.kind === 'metrics') {
        const updates = n.data.members;
        setCurves((c) => appendMetrics(c, updates));
        setState((s) => ({
          ...s,
          run: { ...s.run, members: applyMetricsToMembers(s.run.members, updates) },
        }));
        return;
      }
      if (n.kind === 'status') {
        const { status } = n.data;
        setState((s) => ({ ...s, run: { ...s.run, status } }));
        // Rare (start, end): reload the curves too, as live points are one per member and flush.
        void resync();
        return;
      }
      void refreshState();
    },
    [refreshState, resync],
  );

  const connection = useCoordinatorEvents(coordinatorUrl, runId, { onRun, onResync: () => void resync() });

  const active = run.status === 'pending' || run.status === 'running';
  const memberCount = run.members.length;
  const lossOption = useMemo(() => memberCurvesOption(curves, 'loss'), [curves]);
  const accuracyOption = useMemo(() => memberCurvesOption(curves, 'accuracy'), [curves]);
  const classViews = useMemo(() => classViewsOf(run.result), [run.result]);

  return (
    <>
      <header className={styles.header}>
        <h1>{run.name}</h1>
        <span className={`badge status-${run.status}`} data-testid="run-status">
          {run.status}
        </span>
        <span className="muted">
          coordinator:{' '}
          <span
            className={`badge status-${connection}`}
            data-testid="connection-state"
            title={coordinatorUrl}
          >
            {connection}
          </span>
        </span>
      </header>
      {connection === 'offline' && (
        <p className="notice" role="status">
          Not connected to the coordinator at {coordinatorUrl}: the page shows the database as of its last
          read and reconnects on its own. Is the coordinator running?
        </p>
      )}
      {run.status === 'cancelled' ? (
        <p className="notice" role="status" data-testid="run-cancelled">
          <strong>Cancelled.</strong> Its unfinished members stopped where they were; the page shows what they
          had trained.
        </p>
      ) : (
        run.error && (
          <p className="notice error" role="alert">
            <strong>Run failed:</strong> {run.error}
          </p>
        )
      )}
      {refreshError && (
        <p className="notice error" role="alert">
          {refreshError}
        </p>
      )}
      <section className="panel" aria-label="Run details">
        <dl className={styles.facts}>
          <Fact label="Dataset" value={run.datasetName} />
          <Fact label="Model" value={run.modelFile ?? run.model ?? '—'} />
          <Fact label="Members" value={String(run.members.length)} />
          <Fact label="Sharding" value={run.sharding ?? '—'} />
          <Fact label="Epochs" value={run.epochs === null ? '—' : String(run.epochs)} />
          <Fact label="Seed" value={String(run.seed)} />
          <Fact label="Started" value={formatDate(run.startedAt)} />
          <Fact label="Finished" value={formatDate(run.finishedAt)} />
          <div>
            <dt>Duration</dt>
            <dd>
              <Duration start={run.startedAt} end={run.finishedAt} />
            </dd>
          </div>
          <Fact label="Run id" value={run.id} mono />
        </dl>
        {run.config.modelFile && <ModelFileSummary file={run.config.modelFile} dataset={run.datasetName} />}
        {active && <CancelRun runId={runId} onCancelled={() => void refreshState()} />}
      </section>

      <section className={styles.section} aria-labelledby="live-heading">
        <h2 id="live-heading">Ensemble now</h2>
        <LiveAccuracies live={run.live?.ensemble.test ?? null} memberCount={run.live?.memberCount ?? null} />
      </section>

      <section className={styles.section} aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <MembersTable
          members={run.members}
          runStatus={run.status}
          workerNames={state.workerNames}
          workerDevices={state.workerDevices}
        />
      </section>

      <section className={styles.section} aria-labelledby="curves-heading">
        <h2 id="curves-heading">Training</h2>
        {curves.length === 0 && (
          <p className={styles.empty}>
            {active ? (
              <>
                Waiting for the first worker — start one with{' '}
                <code>npx chorus worker --coordinator {coordinatorUrl} --token &lt;worker token&gt;</code> (
                <code>npx chorus tokens</code> on the coordinator’s machine prints the token; there,{' '}
                <code>--data-dir</code> instead of <code>--token</code> finds it).
              </>
            ) : (
              'This run recorded no training metrics.'
            )}
          </p>
        )}
        {curves.length > 0 && (
          <div className={styles.charts} style={{ marginTop: 0 }}>
            <div>
              <h3>Loss per member</h3>
              <Chart
                option={lossOption}
                height={300}
                testId="chart-member-loss"
                label="Training loss of each member over steps"
              />
            </div>
            <div>
              <h3>Accuracy per member</h3>
              <Chart
                option={accuracyOption}
                height={300}
                testId="chart-member-accuracy"
                label="Training accuracy of each member over steps"
              />
            </div>
            <ValidationAccuracy curves={state.validation} />
          </div>
        )}
      </section>

      <section className={`panel ${styles.section}`} aria-labelledby="voting-heading">
        <h2 id="voting-heading">Voting</h2>
        <div className={styles.charts} style={{ marginTop: 0 }}>
          <div>
            <h3>Ensemble accuracy per strategy</h3>
            <StrategyAccuracy rounds={state.rounds} live={run.live} memberCount={memberCount} />
          </div>
          <AccuracyDiversity rounds={state.rounds} memberCount={memberCount} />
        </div>
        <h3>Final comparison</h3>
        {state.finalTable ? (
          <div className={styles.tableScroll} tabIndex={0} role="region" aria-label="Final comparison table">
            <FinalTable table={state.finalTable} />
          </div>
        ) : (
          <p className={styles.empty}>The comparison table appears after the first evaluation.</p>
        )}
      </section>

      <ClassesPanel views={classViews} active={active} />
      <DiversityPanel diversity={state.diversity} />
      <WhatIfPanel runId={runId} memberCount={memberCount} />
      {run.status === 'completed' && <TryItPanel runId={runId} datasetName={run.datasetName} />}
    </>
  );
}

function Fact({ label, value, mono }: { label: string; value: string; mono?: boolean }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined}>{value}</dd>
    </div>
  );
}

/** A run's duration; while it runs, counted up every second (server and browser clocks differ: no hydration warning). */
function Duration({ start, end }: { start: Date | null; end: Date | null }) {
  const [, setTick] = useState(0);
  const running = start !== null && end === null;
  useEffect(() => {
    if (!running) return;
    const id = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(id);
  }, [running]);
  return <span suppressHydrationWarning>{formatDuration(start, end)}</span>;
}
