import { NewRunLauncher } from '../../../components/new-run/new-run-launcher';
import { configToForm } from '../../../lib/config-form';
import { coordinatorApi } from '../../../server/coordinator';
import { repositories } from '../../../server/repositories';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'New run' };

/** `/runs/new`, or `/runs/new?from=<run id>` to start from a previous run's config. */
export default async function NewRunPage({
  searchParams,
}: {
  searchParams: Promise<{ from?: string | string[] }>;
}) {
  const { from } = await searchParams;
  const fromId = typeof from === 'string' && /^[\w-]{1,64}$/.test(from) ? from : null;
  let initial;
  let note: string | undefined;
  if (fromId) {
    const run = await repositories().runs.get(fromId);
    if (run) {
      // A copy gets a new name (the coordinator's default unless the user types one).
      initial = configToForm({ ...run.config, name: undefined });
      note = `Starting from the config of “${run.name}”.`;
    } else {
      note = `Run ${fromId} was not found: starting from the defaults.`;
    }
  }
  // Which datasets the coordinator has; without an answer the form simply does not mark any.
  const datasets = await coordinatorApi()
    .listDatasets()
    .then((r) => r.datasets)
    .catch(() => null);
  return (
    <>
      <h1>New run</h1>
      <p className="muted">
        The run config of <code>chorus train</code> / <code>chorus run</code>; checked here with the same
        schema the coordinator uses. Free workers pick its members up as soon as it is launched.
      </p>
      <NewRunLauncher {...(initial && { initial })} {...(note && { note })} datasets={datasets} />
    </>
  );
}
