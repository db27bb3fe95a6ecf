import Link from 'next/link';
import { LiveRefresh } from '../../components/live-refresh';
import { CompareCharts } from '../../components/compare/compare-charts';
import { ComparePicker } from '../../components/compare/compare-picker';
import { CompareRunCards } from '../../components/compare/compare-run-cards';
import { CompareTable } from '../../components/compare/compare-table';
import { ConfigDiff } from '../../components/compare/config-diff';
import { MembersDiversityTable } from '../../components/compare/members-diversity-table';
import styles from '../../components/compare/compare.module.css';
import { parseCompareQuery, runLetter } from '../../lib/compare';
import { seriesColor } from '../../lib/palette';
import { loadCompare, loadCompareChoices } from '../../server/compare';
import { dashboardServer, repositories } from '../../server/repositories';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Compare runs' };

type Search = { runs?: string | string[]; run?: string | string[] };

export default async function ComparePage({ searchParams }: { searchParams: Promise<Search> }) {
  const query = parseCompareQuery(await searchParams);
  const repos = repositories();
  const { publicCoordinatorUrl } = dashboardServer().env;
  const choices = await loadCompareChoices(repos);

  const pick = (message: string | null) => (
    <>
      <h1>Compare runs</h1>
      {choices.length < 2 ? (
        <p className="notice" data-testid="compare-message">
          A comparison needs at least two runs, and{' '}
          {choices.length === 0 ? 'there are none yet' : 'there is only one'}. Launch one from{' '}
          <Link href="/runs/new">New run</Link> (or <code>npx chorus run</code>).
        </p>
      ) : (
        <>
          {message && (
            <p className="notice error" role="status" data-testid="compare-message">
              {message}
            </p>
          )}
          <p className="muted">
            Pick two to four runs below, or tick them on the <Link href="/">Runs</Link> page and use “Compare
            selected”.
          </p>
          <ComparePicker choices={choices} selected={query.ids} />
        </>
      )}
    </>
  );

  // A bare /compare is not a mistake: no message then, just the picker.
  if (!query.ok) return pick(query.problem === 'none-picked' ? null : query.message);
  const data = await loadCompare(repos, query.ids);
  if (data.runs.length < 2 || data.missing.length > 0) {
    return pick(
      `No run with the id ${data.missing.map((m) => `“${m}”`).join(', ')}: it may have been deleted, or the link is mistyped.`,
    );
  }

  const runs = data.runs;
  const datasets = [...new Set(runs.map((r) => r.datasetName))];
  const active = runs.some((r) => r.status === 'pending' || r.status === 'running');
  const chartRuns = runs.map((r, i) => ({
    id: r.id,
    label: `${runLetter(i)} · ${r.name}`,
    letter: runLetter(i),
    epochs: typeof r.config.epochs === 'number' ? r.config.epochs : (r.curves?.epochs ?? 1),
    color: seriesColor(i),
    rounds: r.rounds,
    curves: r.curves,
  }));

  return (
    <>
      <div className="toolbar">
        <h1 style={{ margin: 0 }}>Compare runs</h1>
        <LiveRefresh
          coordinatorUrl={publicCoordinatorUrl}
          topics={['runs']}
          {...(active && { pollMs: 10_000 })}
        />
      </div>
      <CompareRunCards runs={runs} />
      {datasets.length > 1 && (
        <p className="notice error" role="note">
          These runs use different datasets ({datasets.join(', ')}): their accuracies are not directly
          comparable.
        </p>
      )}
      <details className={styles.same}>
        <summary>Change the runs</summary>
        <ComparePicker choices={choices} selected={query.ids} />
      </details>
      <div className={styles.stack}>
        <ConfigDiff runs={runs} />
        <CompareCharts runs={chartRuns} />
        <section className="panel" aria-labelledby="compare-final-title">
          <h2 id="compare-final-title">Final table</h2>
          <CompareTable runs={runs} />
        </section>
        <section className="panel" aria-labelledby="compare-diversity-title">
          <h2 id="compare-diversity-title">Members and diversity</h2>
          <MembersDiversityTable runs={runs} />
        </section>
      </div>
    </>
  );
}
