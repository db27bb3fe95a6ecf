import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { RunView } from '../../../components/run/run-view';
import { loadRunPage } from '../../../server/run-data';
import { dashboardServer, repositories } from '../../../server/repositories';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ id: string }> };

const RUN_ID = /^[\w-]{1,64}$/;

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { id } = await params;
  if (!RUN_ID.test(id)) return { title: 'Run not found' };
  const run = await repositories().runs.get(id);
  return { title: run ? run.name : 'Run not found' };
}

/** A run, read from the database on the server; the client part then follows it live. */
export default async function RunPage({ params }: Params) {
  const { id } = await params;
  if (!RUN_ID.test(id)) notFound();
  const data = await loadRunPage(repositories(), id);
  if (!data) notFound();
  return <RunView initial={data} coordinatorUrl={dashboardServer().env.publicCoordinatorUrl} />;
}
