'use client';

import { useRouter } from 'next/navigation';
import { launchRun } from '../../server/coordinator-actions';
import type { FormState } from '../../lib/config-form';
import type { DatasetListing } from '@chorus/protocol';
import { NewRunForm } from './new-run-form';

/** The form wired to the coordinator (server action) and the router (to the new run's page). */
export function NewRunLauncher({
  initial,
  note,
  datasets,
}: {
  initial?: FormState;
  note?: string;
  datasets: readonly DatasetListing[] | null;
}) {
  const router = useRouter();
  return (
    <NewRunForm
      {...(initial && { initial })}
      {...(note && { note })}
      datasets={datasets}
      launch={launchRun}
      onLaunched={(id) => router.push(`/runs/${encodeURIComponent(id)}`)}
    />
  );
}
